import { describe, expect, it } from "vitest";

import { reconcileJobId } from "../../../src/pipeline/jobs.js";
import {
  afterEmptyRound,
  callEndedAt,
  giveUpAtMs,
  queryDateMs,
  retryBaseMs,
  throttlePauseMs,
  transientDelayMs,
  type CallTimes,
} from "../../../src/reconcile/policy.js";
import { concurrencyFor } from "../../../src/reconcile/worker.js";

const bj = (s: string) => new Date(`${s.replace(" ", "T")}+08:00`);
const none: CallTimes = {
  originateTime: null,
  ringTime: null,
  startTime: null,
  endTime: null,
  lastEventTime: null,
  createdAt: bj("2026-11-26 09:00:00"),
};
const half = () => 0.5;

describe("call times", () => {
  it("takes the end from the CDR, else the last event, else first sight", () => {
    const endTime = bj("2026-11-25 10:00:40");
    const lastEventTime = bj("2026-11-25 10:00:41");
    expect(callEndedAt({ ...none, endTime, lastEventTime })).toEqual(endTime);
    expect(callEndedAt({ ...none, lastEventTime })).toEqual(lastEventTime);
    expect(callEndedAt(none)).toEqual(none.createdAt);
    expect(giveUpAtMs({ ...none, endTime }, 3600_000)).toBe(endTime.getTime() + 3600_000);
  });

  it("queries from 00:00 Beijing time of the day the call was placed", () => {
    // Placed 23:59:50 Beijing, ended after midnight: still the first day.
    const call = {
      ...none,
      originateTime: bj("2026-11-25 23:59:50"),
      endTime: bj("2026-11-26 00:01:00"),
    };
    expect(queryDateMs(call)).toBe(bj("2026-11-25 00:00:00").getTime());
    // 07:00 Beijing is the previous UTC day: the Beijing day counts.
    expect(queryDateMs({ ...none, lastEventTime: bj("2026-11-25 07:00:00") })).toBe(
      bj("2026-11-25 00:00:00").getTime(),
    );
  });
});

describe("after an empty round", () => {
  const p = {
    nowMs: 1_000_000,
    giveUpAtMs: 1_000_000 + 24 * 3600_000,
    baseMs: 60_000,
    random: half,
  };

  it("waits base × 2^(attempts-1), capped at an hour", () => {
    expect(afterEmptyRound({ ...p, attempts: 1 })).toEqual({ kind: "retry", delayMs: 60_000 });
    expect(afterEmptyRound({ ...p, attempts: 3 })).toEqual({ kind: "retry", delayMs: 240_000 });
    expect(afterEmptyRound({ ...p, attempts: 12 })).toEqual({ kind: "retry", delayMs: 3600_000 });
  });

  it("schedules the last round at the deadline and gives up after it", () => {
    expect(afterEmptyRound({ ...p, attempts: 5, giveUpAtMs: p.nowMs + 1000 })).toEqual({
      kind: "retry",
      delayMs: 1000,
    });
    expect(afterEmptyRound({ ...p, attempts: 6, giveUpAtMs: p.nowMs })).toEqual({
      kind: "not_found",
    });
  });

  it("starts from a third of the configured delay, between 0.5 s and 60 s", () => {
    expect(retryBaseMs(180_000)).toBe(60_000);
    expect(retryBaseMs(0)).toBe(500);
    expect(retryBaseMs(30_000)).toBe(10_000);
  });
});

describe("transient backoffs", () => {
  it("grow and are capped", () => {
    expect(transientDelayMs(1, half)).toBe(1000);
    expect(transientDelayMs(4, half)).toBe(8000);
    expect(transientDelayMs(40, half)).toBe(300_000);
    expect(throttlePauseMs(1)).toBe(250);
    expect(throttlePauseMs(3)).toBe(1000);
    expect(throttlePauseMs(30)).toBe(30_000);
  });
});

describe("sizing and ids", () => {
  it("keeps about rate × latency requests in flight (Little's law), with headroom", () => {
    expect(concurrencyFor(100, 200)).toBe(47);
    expect(concurrencyFor(50, 1000)).toBe(85);
    expect(concurrencyFor(1, 10)).toBe(3);
  });

  it("makes readable BullMQ job ids without ':'", () => {
    expect(reconcileJobId("116012854210^104753038210")).toBe("rc-116012854210^104753038210");
    expect(reconcileJobId("a:b%c")).toBe("rc-a%3Ab%25c");
  });
});
