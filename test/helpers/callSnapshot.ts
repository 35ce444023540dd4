/**
 * A call as reconciliation reads it (CallSnapshot), for unit tests: an outbound answered call
 * with its VoiceReport, pending and due, that ended ten minutes ago; `over` sets what a test is
 * about.
 */
import type { CallSnapshot } from "../../src/store/calls/reads.js";

export function callSnapshot(over: Partial<CallSnapshot> = {}): CallSnapshot {
  const ended = new Date(Date.now() - 10 * 60_000);
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
