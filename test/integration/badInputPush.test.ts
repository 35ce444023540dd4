/**
 * Issue 19 over HTTP push: each hostile value of the issue, pushed beside valid receipts, fails
 * only itself (400 or a rejected row with its reason) and the neighbours are stored and applied.
 * Real fastify, PostgreSQL and Redis; LOG_REDACT_NUMBERS=on, and the logs are grepped.
 */
import { gzipSync } from "node:zlib";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestApp, type TestApp } from "../helpers/app.js";
import { registerSuiteSecrets } from "../helpers/suiteLogs.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

const TOKEN = "push-token-badinput-7f3a";
const PHONE = "13912345678";
let db: TestDatabase;
let t: TestApp;
const prefix = randomPrefix();

beforeAll(async () => {
  registerSuiteSecrets([TOKEN, PHONE]);
  db = await createTestDatabase();
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: { VMS_PUSH_TOKEN: TOKEN, LOG_REDACT_NUMBERS: "on" },
  });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

let seq = 0;
function valid(): Record<string, unknown> {
  seq++;
  return {
    call_id: `19${seq}^${seq}`,
    status_code: "200000",
    start_time: "2026-11-25 10:00:00",
    end_time: "2026-11-25 10:00:10",
    duration: "10",
    caller: PHONE,
  };
}

async function pushRaw(type: string, body: string | Buffer) {
  const res = await fetch(`${t.url}/push/${type}?token=${TOKEN}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: res.status, body: (await res.json()) as { code: number; msg: string } };
}

async function rejectedReasons(like: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ reason: string }>(
    "select reason from rejected_receipts where reason like $1 order by id",
    [like],
  );
  return rows.map((r) => r.reason);
}

async function applied(callIds: readonly string[]): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from calls where call_id = any($1) and report_received_at is not null",
        [callIds],
      );
      return rows[0]?.n === callIds.length;
    },
    { what: "neighbours applied to calls", timeoutMs: 30_000 },
  );
}

/** Pushes `hostile` between two valid receipts: 200, neighbours applied, one rejected row. */
async function between(hostile: unknown, reason: RegExp, hostileText?: string): Promise<void> {
  const a = valid();
  const b = valid();
  const body = `[${JSON.stringify(a)},${hostileText ?? JSON.stringify(hostile)},${JSON.stringify(b)}]`;
  const r = await pushRaw("VoiceReport", body);
  expect(r.status).toBe(200);
  await applied([String(a.call_id), String(b.call_id)]);
  const { rows } = await db.pool.query<{ reason: string }>(
    "select reason from rejected_receipts where location = 'push#1' order by id desc limit 1",
  );
  expect(rows[0]?.reason).toMatch(reason);
  await db.pool.query("delete from rejected_receipts");
}

describe("push: one hostile receipt fails only itself", () => {
  it("end_time 0001-01-01 (PostgreSQL refuses year 0) is rejected, its neighbours stored", async () => {
    await between({ ...valid(), end_time: "0001-01-01 00:00:00" }, /end_time.*year 1 is outside/);
  });

  it("a start_time far in the future is rejected", async () => {
    await between({ ...valid(), start_time: "9999-12-31 23:59:59" }, /start_time.*outside/);
  });

  it("a 10 KB call_id is rejected (a B-tree index entry cannot hold it)", async () => {
    await between({ ...valid(), call_id: "9".repeat(10_240) }, /call_id" is longer than 256/);
  });

  it("a 10 KB record_file is rejected", async () => {
    const a = valid();
    const r = await pushRaw(
      "VoiceRecordReport",
      JSON.stringify([{ call_id: a.call_id, record_file: `https://x/${"a".repeat(10_240)}` }]),
    );
    expect(r.status).toBe(200);
    expect(await rejectedReasons('%record_file" is longer than 2048%')).toHaveLength(1);
  });

  it("an item nested 5,000 levels deep is rejected, not a 500 (JSON.stringify recursion)", async () => {
    const deep = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    await between(null, /nested too deeply/, `{"call_id":"1^1","x":${deep}}`);
  });

  it("a numeric call_id beyond 2^53 is rejected, not stored with other digits", async () => {
    const text = `{"call_id":12345678901234567890,"status_code":"200000"}`;
    await between(null, /12345678901234567890 cannot be represented exactly/, text);
    const { rows } = await db.pool.query("select 1 from receipts where call_id like '1234567890%'");
    expect(rows).toHaveLength(0);
  });

  it("NUL and lone surrogates in any string (value or key) are rejected", async () => {
    await between({ ...valid(), status_msg: "a\u0000b" }, /status_msg" contains a NUL/);
    await between({ ...valid(), status_msg: "\ud800" }, /status_msg" contains a lone UTF-16/);
    await between({ ...valid(), ["k\u0000"]: 1 }, /contains a NUL/);
  });
});

describe("push: a body that is not UTF-8 JSON is 400 and quarantined", () => {
  it.each([
    ["x\\0 (a NUL quoted by JSON.parse's message)", Buffer.from("x\u0000"), /not valid JSON/],
    ["gzip", gzipSync(JSON.stringify([valid()])), /not valid UTF-8 text \(it is gzip/],
    ["UTF-16 with BOM", Buffer.from(`\ufeff${JSON.stringify([valid()])}`, "utf16le"), /UTF-16/],
    ["UTF-16 without BOM", Buffer.from(JSON.stringify([valid()]), "utf16le"), /not valid JSON/],
    [
      "Latin-1 inside JSON",
      Buffer.from('[{"call_id":"1^\xe9","status_code":"1"}]', "latin1"),
      /UTF-8/,
    ],
  ])("%s", async (_name, body, reason) => {
    const before = (await rejectedReasons("push body%")).length;
    const r = await pushRaw("VoiceReport", body);
    expect(r.status).toBe(400);
    const reasons = await rejectedReasons("push body%");
    expect(reasons).toHaveLength(before + 1);
    expect(reasons.at(-1)).toMatch(reason);
    expect(reasons.at(-1)).not.toContain("\u0000");
  });

  it("with LOG_REDACT_NUMBERS=on, a number in an unparsable body never reaches the log", async () => {
    const r = await pushRaw("VoiceReport", `x${PHONE} not json`);
    expect(r.status).toBe(400);
    expect(r.body.msg).not.toContain(PHONE);
    expect(t.logs()).toContain("push body rejected");
    expect(t.logs()).not.toContain(PHONE);
  });
});

describe("smart-call callback: refused turns are 400 with a reason, never a storage failure", () => {
  async function callback(params: Record<string, unknown>) {
    const res = await fetch(`${t.url}/smart-call/callback?token=${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    });
    return { status: res.status, text: await res.text() };
  }
  const turn = (content: Record<string, unknown>, timestamp = Date.UTC(2026, 10, 25)) => ({
    call_id: "19^turn",
    timestamp: String(timestamp),
    content_type: "normal",
    content: JSON.stringify({ role: "B", words: "喂", ...content }),
  });

  it("a turn with a lone surrogate", async () => {
    const r = await callback(turn({ words: "\ud800" }));
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/lone UTF-16 surrogate/);
    expect(await rejectedReasons("%lone UTF-16 surrogate%")).not.toHaveLength(0);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).not.toMatch(/outcome="storage_failed"\} [1-9]/);
  });

  it.each([
    ["year 275760", 8.64e15],
    ["year 1970", 1000],
  ])("a timestamp of %s", async (_name, ts) => {
    const r = await callback(turn({}, ts));
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/timestamp is out of range/);
  });

  it("a valid turn still answers 200", async () => {
    expect((await callback(turn({}))).status).toBe(200);
  });
});

describe("logs", () => {
  it("never carry the push token or a full test number", () => {
    const logs = t.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(PHONE);
  });
});
