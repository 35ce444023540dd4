/**
 * One VMS_QUEUE_PREFIX, one database: a second database on the same Redis and prefix is refused
 * (exit 2 naming VMS_QUEUE_PREFIX, for `run` and for `replay`), so is a database dropped and
 * created again under the same name, and persist job ids differ between databases, so receipt
 * ids that restart at 1 never collide with another database's completed jobs.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { persistJobId } from "../../src/pipeline/jobs.js";
import {
  PrefixBoundElsewhereError,
  readDatabaseIdentity,
} from "../../src/pipeline/prefixBinding.js";
import { startTestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli.js";
import { createTestDatabase, databaseUrlFor, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";

let a: TestDatabase;
let b: TestDatabase;
let dir: string;
const prefix = randomPrefix();

beforeAll(async () => {
  [a, b] = [await createTestDatabase(), await createTestDatabase()];
  dir = await mkdtemp(join(tmpdir(), "vr-binding-"));
  await writeFile(
    join(dir, "a.ndjson"),
    `${JSON.stringify({ call_id: "320000000000^1", status_code: "200000", out_id: "bind-1" })}\n`,
  );
});
afterAll(async () => {
  await a?.drop();
  await b?.drop();
  await rm(dir, { recursive: true, force: true });
  await deleteKeysWithPrefix(prefix);
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: inject("databaseUrl") });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe("a queue prefix is bound to one database", () => {
  it("binds on first use, and the same database may start again", async () => {
    const first = await startTestApp({ databaseUrl: a.url, prefix });
    await first.stop();
    const again = await startTestApp({ databaseUrl: a.url, prefix });
    await again.stop();
  });

  it("refuses another database on the same Redis and prefix", async () => {
    const started = startTestApp({ databaseUrl: b.url, prefix });
    await expect(started).rejects.toBeInstanceOf(PrefixBoundElsewhereError);
    await expect(started).rejects.toThrow(/VMS_QUEUE_PREFIX .* belongs to database "vr_t_/);
  });

  it("run and replay exit 2 naming VMS_QUEUE_PREFIX and saying to use one prefix per database", async () => {
    const env = { DATABASE_URL: b.url, REDIS_URL: inject("redisUrl"), VMS_QUEUE_PREFIX: prefix };
    const replay = await runCli(["replay", "--no-apply", dir], env, 60_000);
    expect(replay.code, replay.stderr).toBe(2);
    expect(replay.stderr).toMatch(/VMS_QUEUE_PREFIX/);
    expect(replay.stderr).toMatch(/one prefix per database/);
    const { rows } = await b.pool.query("select count(*)::int as n from receipts");
    expect(rows[0].n).toBe(0);

    const run = await runCli(["run"], { ...env, VMS_PUSH_PORT: "0" }, 60_000);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/VMS_QUEUE_PREFIX/);
  });

  it("notices a database dropped and created again under the same name", async () => {
    const name = `vr_t_rebind_${Date.now().toString(36)}`;
    const url = databaseUrlFor(name);
    const create = () =>
      admin((c) => c.query(`create database ${name} template ${inject("templateDatabase")}`));
    const drop = () => admin((c) => c.query(`drop database if exists ${name} with (force)`));
    const ownPrefix = randomPrefix();
    try {
      await create();
      await (await startTestApp({ databaseUrl: url, prefix: ownPrefix })).stop();
      await drop();
      await create();
      await expect(startTestApp({ databaseUrl: url, prefix: ownPrefix })).rejects.toThrow(
        /earlier incarnation of database/,
      );
    } finally {
      await drop();
      await deleteKeysWithPrefix(ownPrefix);
    }
  });

  it("gives persist jobs of different databases different ids for the same receipt ids", async () => {
    const [ia, ib] = [await readDatabaseIdentity(a.pool), await readDatabaseIdentity(b.pool)];
    expect(ia.scope).not.toBe(ib.scope);
    expect(persistJobId([1, 2], "", ia.scope)).not.toBe(persistJobId([1, 2], "", ib.scope));
    expect(persistJobId([1, 2], "", ia.scope)).toMatch(/^p-[0-9a-f]{10}-[0-9a-f]{40}$/);
  });
});
