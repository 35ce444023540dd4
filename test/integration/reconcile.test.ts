/**
 * Reconciliation end to end: receipts pushed over HTTP, persisted by the real workers, then
 * reconciled against the simulator's QueryCallDetailByCallId over real HTTP with the real signed
 * SDK client. Short delays come from configuration (VMS_RECONCILE_DELAY_SECONDS=0, a 1 h give-up
 * window measured from the call's end, simulator lag set per test).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { parseBeijingTime } from "../../src/domain/time.js";
import {
  createCallGenerator,
  detailForCall,
  receiptsForCall,
  voiceCallReports,
  voiceReport,
  type SimCall,
  type Simulator,
} from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { pushReceipts } from "../helpers/push.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import {
  callsSettled,
  startReconcilingDaemon,
  type ReconcilingDaemon,
} from "../helpers/reconcile.js";
import { waitFor } from "../helpers/waitFor.js";

const HOUR = 3600_000;
let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
let daemon: ReconcilingDaemon | undefined;
const gen = createCallGenerator({
  seed: 7,
  startTime: Date.now() - 20 * 60_000,
  discrepancyRate: 0.4,
});

/** The same call, moved so that it ended at `endAt` (receipt times are whole seconds). */
function endingAt(call: SimCall, endAt: number): SimCall {
  const d = Math.floor(endAt / 1000) * 1000 - call.endTime;
  const at = (v: number | undefined) => (v === undefined ? undefined : v + d);
  return {
    ...call,
    originateTime: call.originateTime + d,
    ringTime: at(call.ringTime),
    startTime: at(call.startTime),
    endTime: call.endTime + d,
    recordBeginTime: at(call.recordBeginTime),
    dtmf: call.dtmf.map((x) => ({ ...x, at: x.at + d })),
  };
}

async function row(callId: string) {
  const { rows } = await db.pool.query("select * from calls where call_id = $1", [callId]);
  return rows[0];
}

const settled = (ids: readonly string[], states?: readonly string[]) =>
  callsSettled(db.pool, ids, states);

const beijing = (s: string) => {
  const p = parseBeijingTime(s);
  return p.ok ? p.value : null;
};

beforeAll(async () => {
  daemon = await startReconcilingDaemon({
    simulator: { detailLagMs: 0, detailQps: 50 },
    env: { VMS_RECONCILE_QPS: "50" },
  });
  ({ db, sim, t } = daemon);
});
afterAll(() => daemon?.stop());

describe("reconciliation against QueryCallDetailByCallId", () => {
  it("makes the detail authoritative, stores it, and records where the receipts disagreed", async () => {
    const calls = [
      ...gen.generate(24, ["voice", "verification", "ivr", "robot"]),
      ...gen.generate(2, ["inbound"]),
    ];
    sim.control.loadCalls(calls);
    await pushReceipts(t.url, calls.flatMap(receiptsForCall));
    const ids = calls.map((c) => c.callId);
    await waitFor(() => settled(ids), { timeoutMs: 20_000, what: "every call settled" });

    let disagreements = 0;
    for (const call of calls) {
      const r = await row(call.callId);
      if (call.kind === "inbound") {
        expect(r.reconcile_status, call.callId).toBe("skipped");
        expect(r.detail).toBeNull();
        continue;
      }
      const d = detailForCall(call);
      expect(r, call.callId).toMatchObject({
        reconcile_status: "reconciled",
        prod_id: call.prodId,
        status_code: d.state,
        status_msg: d.stateDesc,
        duration_seconds: d.duration,
        caller: d.caller,
        callee: d.callee,
        hangup_direction: d.hangupDirection === 1 ? "machine" : "user",
        reconcile_attempts: 1,
        reconcile_due_at: null,
      });
      expect(r.detail).toEqual(d);
      expect(r.reconciled_at).toBeInstanceOf(Date);
      expect(r.start_time).toEqual(d.startDate ? beijing(d.startDate) : null);
      expect(r.end_time).toEqual(d.endDate ? beijing(d.endDate) : null);
      const expected: Record<string, unknown> = {};
      if (call.discrepancy === "state") {
        expected.status_code = { receipt: call.statusCode, detail: d.state };
      } else if (call.discrepancy === "duration" && call.answered) {
        expected.duration_seconds = { receipt: call.durationSeconds, detail: d.duration };
        expected.end_time = {
          receipt: new Date(call.endTime).toISOString(),
          detail: new Date(call.endTime + 1000).toISOString(),
        };
      }
      expect(r.discrepancies, call.callId).toEqual(expected);
      disagreements += Object.keys(expected).length > 0 ? 1 : 0;
    }
    expect(disagreements).toBeGreaterThan(2);
  });

  it("completes a call known only from its in-call events", async () => {
    const call = gen.next("voice");
    sim.control.loadCalls([call]);
    await pushReceipts(t.url, voiceCallReports(call));
    await waitFor(() => settled([call.callId]), { what: "events-only call reconciled" });
    const d = detailForCall(call);
    expect(await row(call.callId)).toMatchObject({
      status_code: d.state,
      caller: d.caller,
      callee: d.callee,
      duration_seconds: d.duration,
      start_time: d.startDate ? beijing(d.startDate) : null,
      end_time: d.endDate ? beijing(d.endDate) : null,
      report_received_at: null,
      discrepancies: {},
    });
  });

  it("re-applies a reconciled call changed by a late VoiceReport without asking again", async () => {
    const call = gen.next("ivr");
    sim.control.loadCalls([call]);
    await pushReceipts(t.url, voiceCallReports(call));
    await waitFor(() => settled([call.callId]), { what: "reconciled from events" });
    const before = sim.control.counters().detail.calls;
    const first = await row(call.callId);

    const late = voiceReport(call)!;
    await pushReceipts(t.url, [
      { ...late, body: { ...late.body, duration: String(call.durationSeconds + 5) } },
    ]);
    await waitFor(async () => (await row(call.callId)).discrepancies?.duration_seconds, {
      what: "late disagreement recorded",
    });
    const after = await row(call.callId);
    expect(after.discrepancies.duration_seconds).toEqual({
      receipt: call.durationSeconds + 5,
      detail: detailForCall(call).duration,
    });
    // The detail stays authoritative and the API was not asked again.
    expect(after.duration_seconds).toBe(first.duration_seconds);
    expect(after.reconcile_status).toBe("reconciled");
    expect(after.reconciled_at.getTime()).toBeGreaterThan(first.reconciled_at.getTime());
    expect(sim.control.counters().detail.calls).toBe(before);
  });

  it("learns the ProdId per out_id kind so that known kinds cost one request", async () => {
    // The first test taught it that ALICOM_SMART_SAAS^… calls answer with the robot ProdId,
    // which is last in VMS_RECONCILE_PROD_IDS.
    const robots = gen.generate(5, ["robot"]);
    sim.control.loadCalls(robots);
    const before = sim.control.counters().detail;
    await pushReceipts(t.url, robots.flatMap(receiptsForCall));
    await waitFor(() => settled(robots.map((c) => c.callId)), { what: "robot calls reconciled" });
    const after = sim.control.counters().detail;
    expect(after.calls - before.calls).toBe(robots.length);
    expect(after.emptyData - before.emptyData).toBe(0);
  });

  it("asks again with growing delays until a lagging detail appears", async () => {
    sim.control.setDetailLag(2500);
    try {
      const call = endingAt(gen.next("verification"), Date.now() - 200);
      sim.control.loadCalls([call]);
      const before = sim.control.counters().detail.emptyData;
      await pushReceipts(t.url, receiptsForCall(call));
      await waitFor(() => settled([call.callId], ["reconciled"]), {
        timeoutMs: 15_000,
        what: "lagging call reconciled",
      });
      const r = await row(call.callId);
      expect(r.reconcile_attempts).toBeGreaterThanOrEqual(2);
      expect(r.detail).toEqual(detailForCall(call));
      expect(sim.control.counters().detail.emptyData).toBeGreaterThan(before);
    } finally {
      sim.control.setDetailLag(0);
    }
  });

  it("ends a call whose detail never appears not_found after the give-up window, keeping the receipt data", async () => {
    // Unknown to the simulator, ended 1 h - 3 s ago: the 1 h window closes in 3 s.
    const call = endingAt(gen.next("voice"), Date.now() - HOUR + 3000);
    await pushReceipts(t.url, receiptsForCall(call));
    await waitFor(() => settled([call.callId], ["not_found"]), {
      timeoutMs: 15_000,
      what: "call given up",
    });
    const r = await row(call.callId);
    expect(r.reconcile_attempts).toBeGreaterThanOrEqual(2);
    expect(r).toMatchObject({
      status_code: call.statusCode,
      duration_seconds: call.durationSeconds,
      detail: null,
      discrepancies: null,
      reconciled_at: null,
      reconcile_due_at: null,
    });
  });

  it("exposes reconcile metrics", async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/voice_receipts_reconcile_calls_total\{outcome="found"\} [1-9]/);
    expect(text).toMatch(/voice_receipts_reconcile_calls_total\{outcome="empty"\} [1-9]/);
    expect(text).toMatch(/voice_receipts_reconcile_results_total\{result="not_found"\} 1/);
    expect(text).toMatch(/voice_receipts_reconcile_limiter_wait_seconds_count [1-9]/);
  });

  it("never logs the AccessKey secret", () => {
    expect(t.logs()).not.toContain(sim.credentials.accessKeySecret);
  });
});

describe("with reconcile off", () => {
  it("marks calls skipped and never calls the API", async () => {
    const offDb = await createTestDatabase();
    const offPrefix = randomPrefix();
    const off = await startTestApp({
      databaseUrl: offDb.url,
      prefix: offPrefix,
      env: { VMS_RECONCILE: "off" },
    });
    try {
      const call = gen.next("voice");
      await pushReceipts(off.url, receiptsForCall(call));
      await waitFor(
        async () =>
          (
            await offDb.pool.query("select reconcile_status from calls where call_id = $1", [
              call.callId,
            ])
          ).rows[0]?.reconcile_status === "skipped",
        { what: "call skipped" },
      );
    } finally {
      await off.stop();
      await offDb.drop();
      await deleteKeysWithPrefix(offPrefix);
    }
  });
});

describe("when Alibaba refuses the requests", () => {
  it("logs it loudly and keeps the call pending, to be retried slowly", async () => {
    const badDb = await createTestDatabase();
    const badPrefix = randomPrefix();
    const secret = "definitely-not-the-secret";
    const bad = await startTestApp({
      databaseUrl: badDb.url,
      prefix: badPrefix,
      env: {
        ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
        VMS_API_ENDPOINT: sim.url,
        VMS_RECONCILE_DELAY_SECONDS: "0",
      },
    });
    try {
      const call = gen.next("voice");
      sim.control.loadCalls([call]);
      await pushReceipts(bad.url, receiptsForCall(call));
      const state = () =>
        badDb.pool
          .query(
            "select reconcile_status, reconcile_attempts, reconcile_due_at > now() + interval '30 seconds' as later from calls where call_id = $1",
            [call.callId],
          )
          .then((r) => r.rows[0]);
      await waitFor(async () => (await state())?.later, { what: "call put back for later" });
      expect(await state()).toEqual({
        reconcile_status: "pending",
        reconcile_attempts: 0,
        later: true,
      });
      expect(bad.logs()).toMatch(/"level":50[^\n]*QueryCallDetailByCallId refused/);
      expect(bad.logs()).not.toContain(secret);
    } finally {
      await bad.stop();
      await badDb.drop();
      await deleteKeysWithPrefix(badPrefix);
    }
  });
});
