/**
 * `voice-receipts demo` end to end, as a user runs it: the real command, twice on the same
 * DATABASE_URL. Each run gets a database and queue prefix of its own (named in its output),
 * counts only its own calls, reconciles them all, leaves the DATABASE_URL database untouched,
 * and `demo --clean` removes what the runs kept.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { runCli } from "../helpers/cli.js";
import { createTestDatabase, databaseUrlFor, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";

let db: TestDatabase;
const prefix = randomPrefix();
const demoDatabases: string[] = [];
const recordingsDir = mkdtempSync(join(tmpdir(), "vr-demo-recordings-"));
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await rm(recordingsDir, { recursive: true, force: true });
  for (const name of demoDatabases) {
    await db.pool.query(`drop database if exists "${name}" with (force)`).catch(() => {});
    await deleteKeysWithPrefix(`{${name}}`);
  }
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

/** Every key under a prefix (a full SCAN: the Redis is shared, one page may miss them). */
async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(inject("redisUrl"));
  const found: string[] = [];
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return found;
}

const env = () => ({
  DATABASE_URL: db.url,
  REDIS_URL: inject("redisUrl"),
  VMS_QUEUE_PREFIX: prefix,
  VMS_RECORDINGS_STORE: `file://${recordingsDir}`,
});

async function demoRun(calls: number) {
  const r = await runCli(["demo", "--calls", String(calls)], env(), 120_000);
  expect(r.code, r.stderr).toBe(0);
  const name = /^demo database (\S+) \(created beside/m.exec(r.stdout)?.[1];
  expect(name, r.stdout).toMatch(new RegExp(`^${db.name}_demo_\\d{14}$`));
  demoDatabases.push(name!);
  const pool = new (await import("pg")).default.Pool({ connectionString: databaseUrlFor(name!) });
  const q = async (sql: string) => (await pool.query(sql)).rows[0];
  return { r, name: name!, q, end: () => pool.end() };
}

describe("voice-receipts demo", () => {
  it("runs twice in databases of its own, each reconciled, DATABASE_URL untouched; --clean removes them", async () => {
    const first = await demoRun(80);
    // Two runs in the same second would share a name: the second would fail to create it.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await demoRun(80);
    expect(second.name).not.toBe(first.name);
    try {
      for (const run of [first, second]) {
        const { r, q } = run;
        for (const name of ["daily", "status", "robot-tasks", "reconcile", "recordings"]) {
          expect(r.stdout).toContain(`== report ${name}`);
        }
        expect(r.stdout).toMatch(/delivered \d+ receipts to MNS and \d+ by HTTP push/);
        // Progress counts this run's calls only, up to all of them reconciled.
        const progress = [...r.stdout.matchAll(/calls (\d+), reconciled (\d+)\/(\d+)/g)];
        const last = progress.at(-1)!;
        expect(Number(last[1])).toBe(80);
        expect(Number(last[2])).toBe(Number(last[3]));
        expect(r.stdout).not.toContain("stopped waiting");
        expect((await q("select count(*)::int as n from calls")).n).toBe(80);
        expect(
          (await q("select count(*)::int as n from receipts where processed_at is null")).n,
        ).toBe(0);
        expect(
          (await q("select count(*)::int as n from receipts where source = 'mns'")).n,
        ).toBeGreaterThan(0);
        expect(
          (await q("select count(*)::int as n from receipts where source = 'http'")).n,
        ).toBeGreaterThan(0);
        expect(
          (await q("select count(*)::int as n from calls where reconcile_status = 'pending'")).n,
        ).toBe(0);
        expect((await q("select sum(calls)::int as n from report_daily")).n).toBe(80);
        expect(r.stdout).toMatch(/demo finished in \d+\.\d s/);
        // Recordings were downloaded from the simulator's OSS into the store.
        expect(r.stdout).toContain(`recordings are stored in file://${recordingsDir}`);
        const rec = await q(
          "select count(*)::int as n, count(*) filter (where fetch_status = 'stored')::int as stored from recordings",
        );
        expect(rec.n).toBeGreaterThan(0);
        expect(rec.stored).toBe(rec.n);
      }
      // The DATABASE_URL database got nothing, and the production prefix no queue keys.
      const own = await db.pool.query("select count(*)::int as n from calls");
      expect(own.rows[0].n).toBe(0);
      expect(await keysUnder(prefix)).toEqual([]);
      expect((await keysUnder(`{${first.name}}`)).length).toBeGreaterThan(0);
    } finally {
      await first.end();
      await second.end();
    }

    const clean = await runCli(["demo", "--clean"], env(), 60_000);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`dropped database ${first.name}`);
    expect(clean.stdout).toContain(`dropped database ${second.name}`);
    const left = await db.pool.query(
      "select count(*)::int as n from pg_database where datname = any($1)",
      [[first.name, second.name]],
    );
    expect(left.rows[0].n).toBe(0);
    expect(await keysUnder(`{${first.name}}`)).toEqual([]);
    expect(await keysUnder(`{${second.name}}`)).toEqual([]);
  }, 400_000);
});
