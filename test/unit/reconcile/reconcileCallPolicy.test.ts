/**
 * When VMS_RECONCILE_POLICY speaks: reconcileCall with in-memory dependencies (the SQL and the
 * API are covered by test/integration/reconcilePolicy.test.ts).
 */
import { describe, expect, it } from "vitest";

import type { ReconcilePolicy } from "../../../src/config.js";
import { createLogger } from "../../../src/logger.js";
import type { DetailQuery } from "../../../src/reconcile/detailApi.js";
import { createCallReconciler } from "../../../src/reconcile/reconcileCall.js";
import type { CallSnapshot } from "../../../src/store/calls/reads.js";
import type { ReconcileWrite } from "../../../src/store/calls/reconcileWrites.js";

const ended = new Date(Date.now() - 10 * 60_000);

function snapshot(over: Partial<CallSnapshot>): CallSnapshot {
  return {
    callId: "116012854210^104753038210",
    direction: "outbound",
    outId: "order-1",
    dtmf: null,
    voiceType: null,
    earlyMediaCode: null,
    caller: null,
    callee: null,
    statusCode: "200000",
    statusMsg: null,
    durationSeconds: 12,
    hangupDirection: null,
    originateTime: ended,
    ringTime: null,
    startTime: ended,
    endTime: ended,
    lastEventTime: null,
    createdAt: ended,
    reconcileStatus: "pending",
    reconcileAttempts: 0,
    hasReport: true,
    prodId: null,
    detail: null,
    discrepancies: null,
    version: "1",
    changed: false,
    dueInMs: -1,
    ...over,
  };
}

function harness(policy: ReconcilePolicy, call: CallSnapshot) {
  const writes: ReconcileWrite[] = [];
  const queries: DetailQuery[] = [];
  const reconcileCall = createCallReconciler({
    prodIds: ["11000000300006"],
    policy,
    giveUpMs: 3600_000,
    retryBaseMs: 500,
    load: async () => call,
    loadReport: async () => undefined,
    write: async (w) => {
      writes.push(w);
      return true;
    },
    api: {
      query: async (q) => {
        queries.push(q);
        return { kind: "empty" };
      },
      latencyMs: () => 10,
    },
    memory: {
      stats: async () => undefined,
      all: async () => new Map(),
      learn: async () => {},
      note: async () => {},
      flagOnce: async () => false,
    },
    logger: createLogger({ level: "silent" }),
  });
  return {
    writes,
    queries,
    run: () => reconcileCall(call.callId, 0, new AbortController().signal),
  };
}

describe("reconcileCall under a policy", () => {
  it("skips a call with a successful VoiceReport under incomplete, before any query", async () => {
    const h = harness({ kind: "incomplete" }, snapshot({}));
    expect(await h.run()).toEqual({ kind: "done", result: "policy_skipped" });
    expect(h.queries).toEqual([]);
    expect(h.writes).toEqual([
      { kind: "skipped", callId: "116012854210^104753038210", reason: "policy" },
    ]);
  });

  it("queries a call without a VoiceReport under incomplete", async () => {
    const h = harness({ kind: "incomplete" }, snapshot({ hasReport: false }));
    expect(await h.run()).toMatchObject({ kind: "later", reason: "empty" });
    expect(h.queries).toHaveLength(1);
  });

  it("follows a call through once it has been queried, even if its VoiceReport came since", async () => {
    const h = harness({ kind: "incomplete" }, snapshot({ reconcileAttempts: 1 }));
    await h.run();
    expect(h.queries).toHaveLength(1);
    expect(h.writes.some((w) => w.kind === "skipped")).toBe(false);
  });

  it("lets an early job sleep without deciding: the policy speaks when the call is due", async () => {
    const h = harness({ kind: "incomplete" }, snapshot({ dueInMs: 60_000 }));
    expect(await h.run()).toMatchObject({ kind: "later", reason: "early" });
    expect(h.writes).toEqual([]);
    expect(h.queries).toEqual([]);
  });

  it("records inbound as the reason for an inbound call, whatever the policy", async () => {
    const h = harness({ kind: "all" }, snapshot({ direction: "inbound" }));
    expect(await h.run()).toEqual({ kind: "done", result: "skipped" });
    expect(h.writes).toEqual([
      { kind: "skipped", callId: "116012854210^104753038210", reason: "inbound" },
    ]);
  });
});
