/**
 * The loss checker on crafted inputs: it must see a lost row, a duplicate, an unexpected row,
 * a call left unreconciled, a poison receipt not quarantined and a quota overrun — or the
 * fault runs that rely on it prove nothing.
 */
import { describe, expect, it } from "vitest";

import {
  checkDelivery,
  emptySent,
  eventKey,
  expectReceipt,
  problems,
  type DbSnapshot,
  type Sent,
} from "./checker.js";

const CALL = "100000000001^200000000001";
const report = {
  call_id: CALL,
  status_code: "200000",
  start_time: "2026-11-20 10:00:10",
  end_time: "2026-11-20 10:00:40",
  duration: "30",
};
const event = { call_id: CALL, status_code: "200101", status_time: "2026-11-20 10:00:01" };

function sentOf(): { sent: Sent; reportKey: string; eventKey: string } {
  const sent = emptySent();
  const reportKey = expectReceipt(sent, "VoiceReport", report);
  const evKey = expectReceipt(sent, "VoiceCallReport", event);
  for (const r of sent.receipts.values()) {
    r.acked = true;
  }
  sent.poison.add("poison-7");
  sent.pushedReceiptAttempts = 2;
  return { sent, reportKey, eventKey: evKey };
}

/** The database a perfect run leaves behind. */
function perfect(s: ReturnType<typeof sentOf>): DbSnapshot {
  return {
    receipts: new Map([
      [s.reportKey, 1],
      [s.eventKey, 1],
    ]),
    unprocessed: 0,
    calls: new Map([[CALL, { rows: 1, status: "reconciled" }]]),
    events: new Map([[[...s.sent.events][0]!, 1]]),
    recordings: new Map(),
    rejectedRaw: ['[{"call_id":"x","poison":"poison-7"}]'],
  };
}

const quiet = { quota: 10, maxAttemptsPerSecond: 10, throttled: 0, calls: 1 };

describe("the loss checker", () => {
  it("reports nothing for a database that holds exactly what was acknowledged", () => {
    const s = sentOf();
    const r = checkDelivery(s.sent, perfect(s), quiet);
    expect(problems(r)).toEqual({});
    expect(r).toMatchObject({ distinctExpected: 2, rows: 2, delivered: 2, quarantined: 1 });
  });

  it("counts an acknowledged receipt without a row as lost, and an unacknowledged one as not", () => {
    const s = sentOf();
    const db = perfect(s);
    db.receipts.delete(s.reportKey);
    expect(checkDelivery(s.sent, db).lost).toBe(1);
    s.sent.receipts.get(s.reportKey)!.acked = false;
    expect(checkDelivery(s.sent, db).lost).toBe(0);
    // Stored although never acknowledged: recovered, which is fine.
    expect(checkDelivery(s.sent, perfect(s)).recovered).toBe(1);
  });

  it("counts duplicate rows in receipts, calls and call_events", () => {
    const s = sentOf();
    const db = perfect(s);
    db.receipts.set(s.reportKey, 2);
    db.calls.set(CALL, { rows: 3, status: "reconciled" });
    db.events.set([...s.sent.events][0]!, 2);
    const r = checkDelivery(s.sent, db);
    expect(r.duplicates).toBe(1 + 2 + 1);
    expect(problems(r)).toEqual({ duplicates: 4 });
  });

  it("counts rows nobody sent as unexpected", () => {
    const s = sentOf();
    const db = perfect(s);
    db.receipts.set(`r${"0".repeat(64)}`, 1);
    db.calls.set("999999999999^999999999999", { rows: 1, status: "pending" });
    const r = checkDelivery(s.sent, db);
    expect(r.unexpected).toBe(1);
    expect(r.unexpectedCalls).toBe(1);
    expect(r.samples.unexpected).toEqual([`r${"0".repeat(64)}`]);
  });

  it("sees a missing call row, a missing event, an unreconciled call and unprocessed receipts", () => {
    const s = sentOf();
    const db = perfect(s);
    db.events.clear();
    db.unprocessed = 2;
    db.calls.set(CALL, { rows: 1, status: "pending" });
    expect(problems(checkDelivery(s.sent, db))).toEqual({
      missingEvents: 1,
      notReconciled: 1,
      unprocessed: 2,
    });
    // Without reconciliation a pending call is expected.
    expect(checkDelivery(s.sent, db, undefined, { reconcile: false }).notReconciled).toBe(0);
    db.calls.clear();
    expect(checkDelivery(s.sent, db).missingCalls).toBe(1);
  });

  it("sees a poison receipt that never reached rejected_receipts", () => {
    const s = sentOf();
    const db = perfect(s);
    db.rejectedRaw = ["something else"];
    expect(problems(checkDelivery(s.sent, db))).toEqual({ poisonMissing: 1 });
  });

  it("flags a second with more detail API requests than the quota", () => {
    const s = sentOf();
    const r = checkDelivery(s.sent, perfect(s), { ...quiet, maxAttemptsPerSecond: 11 });
    expect(problems(r)).toEqual({ overQuota: 1 });
  });

  it("keys events the way call_events rows are read back", () => {
    const k = eventKey({
      callId: CALL,
      statusCode: "200101",
      statusTime: new Date("2026-11-20T02:00:01Z"),
      dtmf: null,
    });
    expect(sentOf().sent.events.has(k)).toBe(true);
  });

  it("refuses to take an invalid receipt as an expected one", () => {
    expect(() => expectReceipt(emptySent(), "VoiceReport", { status_code: "1" })).toThrow(
      /not: .*call_id/,
    );
  });
});
