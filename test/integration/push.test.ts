/**
 * HTTP push mode end to end: real fastify server, real PostgreSQL and Redis, real workers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  CALLS,
  MALFORMED,
  flipNumericTypes,
  receiptsByType,
  type Receipt,
} from "../fixtures/corpus.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { expectCorpusCalls } from "../helpers/corpusCalls.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

const TOKEN = "push-test-token";
let db: TestDatabase;
let t: TestApp;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: { VMS_PUSH_TOKEN: TOKEN, VMS_PUSH_BODY_LIMIT_BYTES: String(64 * 1024) },
  });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

async function push(
  type: string,
  body: unknown,
  opts: { token?: string | null; raw?: string } = {},
) {
  const token = opts.token === undefined ? TOKEN : opts.token;
  const res = await fetch(
    `${t.url}/push/${type}${token ? `?token=${encodeURIComponent(token)}` : ""}`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: opts.raw ?? JSON.stringify(body),
    },
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function count(table: string, where = "true"): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `select count(*)::int as n from ${table} where ${where}`,
  );
  return rows[0]?.n ?? 0;
}

async function allProcessed(): Promise<boolean> {
  return (await count("receipts", "processed_at is null")) === 0;
}

async function snapshot() {
  const q = async (sql: string) => (await db.pool.query(sql)).rows;
  return {
    receipts: await q(
      "select dedup_key, message_type, source, call_id, body from receipts order by dedup_key",
    ),
    calls: await q(
      "select call_id, direction, out_id, caller, callee, status_code, status_msg, smart_status_code, start_time, end_time, duration_seconds, hangup_direction, dtmf, last_event_time, last_event_code, report_received_at is not null as report from calls order by call_id",
    ),
    events: await q(
      "select call_id, status_code, status_time, dtmf, out_id, smart_status_code from call_events order by call_id, status_time, status_code, dtmf",
    ),
    recordings: await q(
      "select call_id, record_file, duration_seconds, record_begin_time from recordings order by call_id",
    ),
    rejected: await q("select message_type, reason from rejected_receipts order by id"),
  };
}

describe("POST /push/:messageType", () => {
  it("answers the console's test push with 200 and stores nothing", async () => {
    const r = await push("VoiceReport", { json: "test-content" });
    expect(r).toEqual({ status: 200, body: { code: 0, msg: "接收成功" } });
    expect(await count("receipts")).toBe(0);
    expect(await count("rejected_receipts")).toBe(0);
  });

  it("refuses a missing or wrong token with 401 and accepts the header form", async () => {
    expect((await push("VoiceReport", [], { token: null })).status).toBe(401);
    expect((await push("VoiceReport", [], { token: "wrong" })).status).toBe(401);
    const res = await fetch(`${t.url}/push/VoiceReport`, {
      method: "POST",
      headers: { "x-push-token": TOKEN, "content-type": "application/json" },
      body: "[]",
    });
    expect(res.status).toBe(200);
  });

  it("answers 404 for an unknown message type", async () => {
    const r = await push("SmsReport", []);
    expect(r.status).toBe(404);
    expect(String(r.body.msg)).toContain("VoiceReport");
  });

  it("answers 400 to a body that is not JSON and keeps the raw body", async () => {
    const raw = "call_id=1^2&status=oops";
    const r = await push("VoiceReport", null, { raw });
    expect(r.status).toBe(400);
    const { rows } = await db.pool.query(
      "select source, message_type, raw, reason from rejected_receipts where raw = $1",
      [raw],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: "http", message_type: "VoiceReport" });
    expect(rows[0].reason).toMatch(/JSON/i);
  });

  it("answers 400 to JSON that is neither an object nor an array", async () => {
    const r = await push("VoiceReport", null, { raw: "42" });
    expect(r.status).toBe(400);
  });

  it("answers 413 to a body over the limit", async () => {
    const big = Array.from({ length: 400 }, (_, i) => ({
      call_id: `1^${i}`,
      padding: "x".repeat(200),
    }));
    const r = await fetch(`${t.url}/push/VoiceReport?token=${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(big),
    });
    expect(r.status).toBe(413);
  });

  it("turns a mixed corpus into exactly the expected rows, whatever the order and duplication", async () => {
    await db.pool.query("truncate receipts, calls, call_events, recordings, rejected_receipts");
    const byType = receiptsByType();
    // Events reversed, CDRs first, malformed items inside valid arrays.
    const malformedByType = (type: string) =>
      MALFORMED.filter((m) => m.type === type).map((m) => m.item);
    expect(
      (await push("VoiceReport", [...byType.VoiceReport!, ...malformedByType("VoiceReport")]))
        .status,
    ).toBe(200);
    expect(
      (
        await push(
          "VoiceCallReport",
          [...byType.VoiceCallReport!]
            .reverse()
            .concat(malformedByType("VoiceCallReport") as Receipt[]),
        )
      ).status,
    ).toBe(200);
    expect((await push("VoiceRecordReport", byType.VoiceRecordReport)).status).toBe(200);
    // Duplicates across requests, with numbers and numeric strings swapped.
    expect((await push("VoiceReport", byType.VoiceReport!.map(flipNumericTypes))).status).toBe(200);
    expect((await push("VoiceCallReport", byType.VoiceCallReport!.slice(0, 3))).status).toBe(200);
    await waitFor(allProcessed, { what: "all receipts processed" });

    const distinct = Object.values(byType).reduce((s, list) => s + list.length, 0);
    expect(await count("receipts")).toBe(distinct);
    expect(await count("receipts", "source = 'http'")).toBe(distinct);
    expect(await count("calls")).toBe(CALLS.length);
    expect(await count("call_events")).toBe(byType.VoiceCallReport!.length);
    expect(await count("recordings")).toBe(byType.VoiceRecordReport!.length);

    const rejected = (
      await db.pool.query("select message_type, reason, raw from rejected_receipts")
    ).rows;
    expect(rejected).toHaveLength(MALFORMED.length);
    for (const m of MALFORMED) {
      const row = rejected.find((r) => r.raw === JSON.stringify(m.item));
      expect(row, `rejected row for ${JSON.stringify(m.item)}`).toBeDefined();
      expect(row.message_type).toBe(m.type);
      expect(row.reason).toMatch(m.reason);
    }

    await expectCorpusCalls(db.pool);

    // Times are Beijing local time.
    const ivr = (
      await db.pool.query("select start_time from calls where call_id = $1", [CALLS[0]!.callId])
    ).rows[0];
    expect(ivr.start_time.toISOString()).toBe("2026-11-20T02:00:10.000Z");

    // Bodies are kept exactly, unknown fields and Chinese text included.
    const body = (
      await db.pool.query(
        "select body from receipts where call_id = $1 and message_type = 'VoiceReport'",
        [CALLS[1]!.callId],
      )
    ).rows[0].body;
    expect(body).toEqual(CALLS[1]!.report);
  });

  it("changes nothing when the whole corpus is pushed again in another order", async () => {
    const before = await snapshot();
    const byType = receiptsByType();
    expect((await push("VoiceRecordReport", byType.VoiceRecordReport)).status).toBe(200);
    expect((await push("VoiceCallReport", byType.VoiceCallReport)).status).toBe(200);
    expect((await push("VoiceReport", [...byType.VoiceReport!].reverse())).status).toBe(200);
    await waitFor(allProcessed, { what: "all receipts processed" });
    expect(await snapshot()).toEqual(before);
  });

  it("ends with the same call rows whichever order the receipt types arrive in", async () => {
    const byType = receiptsByType();
    const final = (await snapshot()).calls;
    for (const order of [
      ["VoiceCallReport", "VoiceRecordReport", "VoiceReport"],
      ["VoiceReport", "VoiceRecordReport", "VoiceCallReport"],
    ]) {
      await db.pool.query("truncate receipts, calls, call_events, recordings");
      for (const type of order) {
        const list = type === "VoiceCallReport" ? [...byType[type]!].reverse() : byType[type];
        expect((await push(type, list)).status).toBe(200);
        await waitFor(allProcessed, { what: "receipts processed" });
      }
      const calls = (await snapshot()).calls;
      // last_event_time/code and everything else identical; only when they were written differs.
      expect(calls).toEqual(final);
    }
  });

  it("quarantines a receipt PostgreSQL cannot store (lone surrogate, NUL) and accepts its neighbours", async () => {
    const good = {
      call_id: "910000000001^910000000001",
      status_code: "200000",
      out_id: "neighbour",
    };
    const surrogate = {
      call_id: "910000000002^910000000002",
      status_code: "200000",
      note: "bad \ud800 here",
    };
    const nul = { call_id: "910000000003^910000000003", status_code: "200000", note: "a\u0000b" };
    const r = await push("VoiceReport", [good, surrogate, nul]);
    expect(r.status).toBe(200);
    await waitFor(allProcessed, { what: "the neighbour applied" });
    expect(await count("calls", "call_id = '910000000001^910000000001'")).toBe(1);
    expect(
      await count(
        "receipts",
        "call_id in ('910000000002^910000000002', '910000000003^910000000003')",
      ),
    ).toBe(0);
    const { rows } = await db.pool.query(
      "select reason from rejected_receipts where raw like '%91000000000_^%' order by reason",
    );
    expect(rows.map((x) => x.reason)).toEqual([
      expect.stringMatching(/NUL character/),
      expect.stringMatching(/lone UTF-16 surrogate/),
    ]);
  });

  it("counts receipts by source, type and outcome in /metrics", async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(
      /voice_receipts_receipts_total\{source="http",type="VoiceReport",outcome="accepted"\} [1-9]/,
    );
    expect(text).toMatch(
      /voice_receipts_receipts_total\{source="http",type="VoiceReport",outcome="duplicate"\} [1-9]/,
    );
    expect(text).toMatch(
      /voice_receipts_receipts_total\{source="http",type="VoiceReport",outcome="rejected"\} [1-9]/,
    );
  });

  it("logs one line per push, never the token", async () => {
    const logs = t.logs();
    expect(logs).toContain('"msg":"push accepted"');
    expect(logs).not.toContain(TOKEN);
  });
});
