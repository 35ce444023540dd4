/**
 * `recordings fetch` (backfill), `recordings get` (read back, checked) and `report recordings`,
 * run as real CLI processes against real PostgreSQL and the simulator's OSS over HTTP.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, expect, it } from "vitest";

import { startSimulator, type Simulator } from "../../../src/simulator/index.js";
import { wavStream } from "../../../src/simulator/recordings.js";
import { runCli } from "../../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";
import { sha256Of } from "./scenario.js";

let db: TestDatabase;
let sim: Simulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator();
  dir = await mkdtemp(join(tmpdir(), "vr-recordings-cli-"));
  env = {
    DATABASE_URL: db.url,
    VMS_RECORDINGS_STORE: `file://${dir}`,
    VMS_RECORDINGS_HOSTS: "127.0.0.1",
  };
});
afterAll(async () => {
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
  await db?.drop();
});

it("backfills, reports and reads back recordings, refusing a corrupted one", async () => {
  const now = sim.clock.now();
  const calls = ["100000000001^200000000001", "100000000002^200000000002"];
  // As a replay with VMS_RECORDINGS_STORE=off would leave them: skipped, plus one expired link.
  for (const [i, callId] of calls.entries()) {
    await db.pool.query(
      `insert into recordings (call_id, record_file, start_time, body, fetch_status)
       values ($1, $2, '2026-11-30T02:00:00Z', '{}', $3)`,
      [callId, sim.control.recordingUrl(callId, now + 86_400_000), i === 0 ? "skipped" : "pending"],
    );
  }
  await db.pool.query(
    `insert into recordings (call_id, record_file, start_time, body)
     values ('100000000003^200000000003', $1, '2026-11-30T02:00:00Z', '{}')`,
    [sim.control.recordingUrl("100000000003^200000000003", now - 60_000)],
  );

  const fetched = await runCli(["recordings", "fetch"], env, 60_000);
  expect(fetched.stderr).toContain("3 recording(s) to fetch");
  expect(fetched.code).toBe(0);
  expect(fetched.stdout).toContain("stored 2, expired 1, failed 0");

  const report = await runCli(["report", "recordings", "--format", "json"], env);
  expect(report.code).toBe(0);
  const bytes = 44 + 32_000;
  expect(JSON.parse(report.stdout)).toEqual([
    {
      day: "2026-11-30",
      stored: 2,
      pending: 0,
      expired: 1,
      failed: 0,
      skipped: 0,
      bytes_stored: 2 * bytes,
    },
  ]);

  const out = join(dir, "out.wav");
  const got = await runCli(["recordings", "get", calls[0] as string, "-o", out], env);
  expect(got.code).toBe(0);
  const expected = await sha256Of(wavStream("100000000001_200000000001.wav", 32_000));
  expect(
    createHash("sha256")
      .update(await readFile(out))
      .digest("hex"),
  ).toBe(expected);

  // Corrupt the stored object: get refuses it and writes no file.
  const { rows } = await db.pool.query<{ storage_key: string }>(
    "select storage_key from recordings where call_id = $1",
    [calls[1]],
  );
  await writeFile(join(dir, rows[0]?.storage_key as string), "not the recording");
  const bad = join(dir, "bad.wav");
  const refused = await runCli(["recordings", "get", calls[1] as string, "-o", bad], env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/does not match its sha256/);
  expect(existsSync(bad)).toBe(false);

  const missing = await runCli(["recordings", "get", "100000000003^200000000003", "-o", bad], env);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/not stored: expired/);
}, 180_000);

it("prune deletes recordings past retention with their stored objects, and keeps the rest", async () => {
  const { rows } = await db.pool.query<{ call_id: string; storage_key: string }>(
    "select call_id, storage_key from recordings where fetch_status = 'stored' order by call_id",
  );
  expect(rows).toHaveLength(2);
  const [old, kept] = rows as [(typeof rows)[0], (typeof rows)[0]];
  await db.pool.query(
    "update recordings set received_at = now() - interval '400 days' where call_id = $1",
    [old.call_id],
  );
  const dry = await runCli(["prune", "--older-than", "1y", "--dry-run"], env);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain("1 recording(s) would be deleted with 1 stored object(s)");
  expect(existsSync(join(dir, old.storage_key))).toBe(true);

  const pruned = await runCli(["prune", "--older-than", "1y"], env);
  expect(pruned.code).toBe(0);
  expect(pruned.stdout).toContain("1 recording(s) deleted with 1 stored object(s)");
  expect(existsSync(join(dir, old.storage_key))).toBe(false);
  expect(existsSync(join(dir, kept.storage_key))).toBe(true);
  const left = await db.pool.query("select call_id from recordings order by call_id");
  expect(left.rows.map((r: { call_id: string }) => r.call_id)).not.toContain(old.call_id);
  expect(left.rows).toHaveLength(2);
}, 120_000);
