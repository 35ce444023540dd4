/**
 * Errors that name the setting: a closed PostgreSQL port, a push port in use and an unmigrated
 * database, as the real CLI prints them (the password of DATABASE_URL hidden), with exit 1 for
 * what may pass by itself and 2 for what the operator must change.
 */
import net from "node:net";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { runCli } from "../helpers/cli.js";
import { createTestDatabase, databaseUrlFor, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { freePort } from "../helpers/servers.js";

let db: TestDatabase;
const prefix = randomPrefix();
const emptyName = `vr_t_empty_${Date.now().toString(36)}`;

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: inject("databaseUrl") });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Created from template0: no tables at all, as a fresh database before `migrate`.
  await admin(`create database ${emptyName} template template0`);
});
afterAll(async () => {
  await db?.drop();
  await admin(`drop database if exists ${emptyName} with (force)`);
  await deleteKeysWithPrefix(prefix);
});

describe("errors that name the setting", () => {
  it("a closed PostgreSQL port names DATABASE_URL without its password, exit 1", async () => {
    const port = await freePort();
    const r = await runCli(["migrate"], {
      DATABASE_URL: `postgres://postgres:hunter2secret@127.0.0.1:${port}/nowhere`,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `cannot reach PostgreSQL at DATABASE_URL=postgres://postgres:***@127.0.0.1:${port}/nowhere (connection refused)`,
    );
    expect(r.stderr).not.toContain("hunter2secret");
  });

  it("a push port in use names VMS_PUSH_PORT, exit 2", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await runCli(
        ["run"],
        {
          DATABASE_URL: db.url,
          REDIS_URL: inject("redisUrl"),
          VMS_QUEUE_PREFIX: prefix,
          VMS_PUSH_HOST: "127.0.0.1",
          VMS_PUSH_PORT: String(port),
        },
        60_000,
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        `port ${port} (VMS_PUSH_PORT) is already in use on 127.0.0.1: stop what listens there, or set VMS_PUSH_PORT to a free port`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("dialogue on an unmigrated database says to run migrate, exit 2", async () => {
    const r = await runCli(["dialogue", "1^1"], { DATABASE_URL: databaseUrlFor(emptyName) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /the database at DATABASE_URL=postgres:\/\/\S+ has no voice-receipts schema/,
    );
    expect(r.stderr).toContain("run `voice-receipts migrate` with the same DATABASE_URL first");
  });
});
