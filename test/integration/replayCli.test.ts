/**
 * The replay command line as an operator meets it: a misspelt --type is refused with exit 2 and
 * stores nothing; --wait counts each new receipt once (duplicates in and across runs are not
 * "applied" again).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestApp, type TestApp } from "../helpers/app.js";
import { processEnv, runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";

let db: TestDatabase;
let dir: string;
const prefix = randomPrefix();
const env = () => processEnv(db.url, prefix);

function receipt(n: number) {
  return {
    call_id: `330000000000^43000000${String(n).padStart(4, "0")}`,
    status_code: "200000",
    out_id: `cli-${n}`,
    start_time: "2026-11-21 09:00:00",
    end_time: "2026-11-21 09:00:10",
    duration: "10",
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "vr-replay-cli-"));
  // Three receipts, two of them twice.
  const lines = [1, 2, 3, 1, 2].map((n) => JSON.stringify(receipt(n)));
  await writeFile(join(dir, "VoiceReport-dups.ndjson"), `${lines.join("\n")}\n`);
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
  await deleteKeysWithPrefix(prefix);
});

const count = async (table: string) =>
  (await db.pool.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]?.n;

describe("replay --type", () => {
  it("refuses a misspelt type with exit 2, naming the known ones, and stores nothing", async () => {
    const r = await runCli(["replay", "--type", "VoiceReprot", dir], env(), 60_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /--type must be one of VoiceReport, VoiceCallReport, VoiceRecordReport/,
    );
    expect(r.stderr).toContain('"VoiceReprot"');
    expect(await count("receipts")).toBe(0);
  });
});

describe("replay --wait", () => {
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.stop();
  });

  it("counts only new receipts: those queued by an earlier run are not applied by this one", async () => {
    const queued = await runCli(["replay", "--no-apply", "--no-progress", dir], env(), 60_000);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/3 new, 2 duplicates/);
    expect(queued.stdout).toMatch(/; 3 queued for the persist workers;/);

    // No worker yet: the receipts are stored, queued and unprocessed. A --wait over the same
    // archive has nothing new to wait for (it used to wait for, and count, the earlier ones).
    const again = await runCli(["replay", "--wait", "--no-progress", dir], env(), 30_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 new, 5 duplicates/);
    expect(again.stdout).toMatch(/; 0 applied by the persist workers;/);
  });

  it("counts each new receipt once as applied", async () => {
    t = await startTestApp({ databaseUrl: db.url, prefix });
    await writeFile(
      join(dir, "VoiceReport-more.ndjson"),
      `${[4, 5, 4].map((n) => JSON.stringify(receipt(n))).join("\n")}\n`,
    );
    const r = await runCli(["replay", "--wait", "--no-progress", dir], env(), 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 new, 6 duplicates/);
    expect(r.stdout).toMatch(/; 2 applied by the persist workers;/);
    expect(await count("calls")).toBe(5);
  });
});
