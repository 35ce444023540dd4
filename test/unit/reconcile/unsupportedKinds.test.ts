import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  DETAIL_SURELY_THERE_MS,
  EMPTY_FIELD,
  countsAsEvidence,
  emptyField,
  evidenceAgeMs,
  isSuspect,
  probeCountsAsEvidence,
  probeProdId,
  SUSPECT_LIKELY_EMPTY,
  UNSUPPORTED_MIN_CALLS,
  UNSUPPORTED_SAMPLE_EVERY,
  inSample,
  isUnsupported,
} from "../../../src/reconcile/unsupportedKinds.js";

const CONFIGURED = ["11000000300006", "11010000138001", "11000000300005", "11030000180001"];

const stats = (o: Record<string, Record<string, number>>) =>
  new Map(Object.entries(o).map(([k, v]) => [k, new Map(Object.entries(v))]));

describe("isUnsupported", () => {
  it("flags a kind empty across many calls while others are found", () => {
    const all = stats({
      saas: { [EMPTY_FIELD]: UNSUPPORTED_MIN_CALLS },
      "p:vn": { "11000000300006": UNSUPPORTED_MIN_CALLS },
    });
    expect(isUnsupported("saas", all, CONFIGURED)).toBe(true);
    expect(isUnsupported("p:vn", all, CONFIGURED)).toBe(false);
  });

  it("never flags a kind when nothing else is found either (the API, not the kind)", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(UNSUPPORTED_MIN_CALLS - 1), (empty, others) => {
        const all = stats({ saas: { [EMPTY_FIELD]: empty }, "p:vn": { "1": others } });
        expect(isUnsupported("saas", all, CONFIGURED)).toBe(false);
      }),
    );
  });

  it("never flags a kind found for 5 % or more of its judged calls", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 10_000 }), (empty, found) => {
        fc.pre(found >= 0.05 * (found + empty));
        const all = stats({
          saas: { [EMPTY_FIELD]: empty, "11030000180001": found },
          "p:vn": { "1": 1000 },
        });
        expect(isUnsupported("saas", all, CONFIGURED)).toBe(false);
      }),
    );
  });

  it("needs enough empty calls before judging", () => {
    const all = stats({
      saas: { [EMPTY_FIELD]: UNSUPPORTED_MIN_CALLS - 1 },
      "p:vn": { "1": 1000 },
    });
    expect(isUnsupported("saas", all, CONFIGURED)).toBe(false);
  });
});

describe("inSample", () => {
  it("keeps about one call in UNSUPPORTED_SAMPLE_EVERY", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `1000${i}^2000${i * 7}`);
    const share = ids.filter((id) => inSample(id)).length / ids.length;
    expect(share).toBeGreaterThan(0.7 / UNSUPPORTED_SAMPLE_EVERY);
    expect(share).toBeLessThan(1.3 / UNSUPPORTED_SAMPLE_EVERY);
  });
});

/**
 * A call's rounds as reconcileCall runs them: the first at `firstAge` after the call's end, then
 * one retry step later each time (retryBaseMs × 2^(n−1), ±10 % jitter, plus however late the
 * job ran), so the rules are checked against every schedule the scheduler can produce.
 */
const schedule = fc
  .record({
    firstAge: fc.integer({ min: 0, max: 30 * 60_000 }),
    retryBaseMs: fc.integer({ min: 500, max: 60_000 }),
    fromAgeMs: fc.integer({ min: 0, max: 20 * 60_000 }),
    steps: fc.array(
      fc.record({
        jitter: fc.double({ min: 0.9, max: 1.1, noNaN: true }),
        lateMs: fc.integer({ min: 0, max: 30_000 }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map((s) => {
    const ages = [s.firstAge];
    s.steps.forEach((step, i) => {
      ages.push(ages[i]! + s.retryBaseMs * 2 ** i * step.jitter + step.lateMs);
    });
    return { ...s, ages };
  });

describe("countsAsEvidence", () => {
  it("counts a call at most once, never before the detail should be there, and at once when it should", () => {
    fc.assert(
      fc.property(schedule, ({ ages, retryBaseMs, fromAgeMs }) => {
        const counted = ages.map((age, i) =>
          countsAsEvidence({ attempts: i + 1, endedAtMs: 0, nowMs: age, retryBaseMs, fromAgeMs }),
        );
        expect(counted.filter(Boolean).length).toBeLessThanOrEqual(1);
        ages.forEach((age, i) => {
          if (age < fromAgeMs) {
            expect(counted[i]).toBe(false);
          }
        });
        // A first round already past the lag is always evidence.
        expect(counted[0]).toBe(ages[0]! >= fromAgeMs);
      }),
    );
  });

  it("a lag longer than the first retry step is not taken for a kind without details", () => {
    // Delay 3 s, retry step 1 s, detail lag 10 s (learned): rounds at 3, 4, 6 and 10 s are all
    // younger than the lag and say nothing; the old rule counted the second one.
    const fromAgeMs = evidenceAgeMs(10_000);
    const ages = [3000, 4000, 6000, 10_000, 18_000];
    const counted = ages.map((nowMs, i) =>
      countsAsEvidence({ attempts: i + 1, endedAtMs: 0, nowMs, retryBaseMs: 1000, fromAgeMs }),
    );
    expect(counted).toEqual([false, false, false, true, false]);
    // Before the lag is known, only calls ended long ago count.
    expect(evidenceAgeMs(undefined)).toBe(DETAIL_SURELY_THERE_MS);
  });
});

describe("judging a kind with one ProdId per call (suspect kinds)", () => {
  it("a kind is suspect only when never found and empty for every ProdId", () => {
    expect(isSuspect(undefined, CONFIGURED)).toBe(false);
    expect(isSuspect(new Map([[EMPTY_FIELD, 1]]), CONFIGURED)).toBe(true);
    expect(isSuspect(new Map(CONFIGURED.map((id) => [emptyField(id), 1])), CONFIGURED)).toBe(true);
    expect(isSuspect(new Map([[emptyField(CONFIGURED[0]!), 3]]), CONFIGURED)).toBe(false);
    expect(
      isSuspect(
        new Map([
          [EMPTY_FIELD, 5],
          [CONFIGURED[2]!, 1],
        ]),
        CONFIGURED,
      ),
    ).toBe(false);
  });

  it("or often empty for its likely ProdId", () => {
    const robot = CONFIGURED[3]!;
    const often = new Map([[emptyField(robot), SUSPECT_LIKELY_EMPTY]]);
    expect(isSuspect(often, CONFIGURED, robot)).toBe(true);
    expect(isSuspect(often, CONFIGURED)).toBe(false);
    expect(isSuspect(often, CONFIGURED, CONFIGURED[0])).toBe(false);
    expect(isSuspect(often, CONFIGURED.slice(0, 3), robot)).toBe(false);
    expect(
      isSuspect(new Map([[emptyField(robot), SUSPECT_LIKELY_EMPTY - 1]]), CONFIGURED, robot),
    ).toBe(false);
    often.set(CONFIGURED[0]!, 1);
    expect(isSuspect(often, CONFIGURED, robot)).toBe(false);
  });

  it("each call probes every ProdId once in as many rounds as there are ProdIds", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(100), (callId, start) => {
        const asked = new Set(CONFIGURED.map((_, i) => probeProdId(CONFIGURED, callId, start + i)));
        expect(asked.size).toBe(CONFIGURED.length);
      }),
    );
  });

  it("calls planned together spread their probes over every ProdId", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `1000${i}^2000${i * 7}`);
    const counts = new Map<string, number>();
    for (const id of ids) {
      const p = probeProdId(CONFIGURED, id, 0);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    for (const id of CONFIGURED) {
      expect(counts.get(id) ?? 0).toBeGreaterThan(ids.length / CONFIGURED.length / 2);
    }
  });

  it("a probe counts once per (call, ProdId), only once the detail should be there", () => {
    fc.assert(
      fc.property(schedule, fc.string(), ({ ages, retryBaseMs, fromAgeMs }, callId) => {
        const counted: string[] = [];
        ages.forEach((age, attempts) => {
          const counts = probeCountsAsEvidence({
            attempts,
            prodIds: CONFIGURED.length,
            endedAtMs: 0,
            nowMs: age,
            retryBaseMs,
            fromAgeMs,
          });
          if (age < fromAgeMs) {
            expect(counts).toBe(false);
          }
          if (counts) {
            counted.push(probeProdId(CONFIGURED, callId, attempts));
          }
        });
        expect(new Set(counted).size).toBe(counted.length);
        if (ages[0]! >= fromAgeMs) {
          // Past the lag from the start: the first cycle over the ProdIds counts whole.
          expect(counted.length).toBe(Math.min(ages.length, CONFIGURED.length));
        }
      }),
    );
  });

  it("judges only once every ProdId has UNSUPPORTED_MIN_CALLS empty calls", () => {
    fc.assert(
      fc.property(
        fc.nat(3),
        fc.array(fc.nat(3 * UNSUPPORTED_MIN_CALLS), { minLength: 4, maxLength: 4 }),
        (swept, probes) => {
          const own = new Map<string, number>([[EMPTY_FIELD, swept]]);
          CONFIGURED.forEach((id, i) => own.set(emptyField(id), probes[i]!));
          const all = new Map([
            ["saas", own],
            ["p:vn", new Map([["11000000300006", 1000]])],
          ]);
          const least = Math.min(...probes) + swept;
          expect(isUnsupported("saas", all, CONFIGURED)).toBe(least >= UNSUPPORTED_MIN_CALLS);
        },
      ),
    );
  });

  it("a ProdId no longer configured gives no evidence", () => {
    const own = new Map(CONFIGURED.map((id) => [emptyField(id), 100]));
    const all = new Map([
      ["saas", own],
      ["p:vn", new Map([["11000000300006", 1000]])],
    ]);
    expect(isUnsupported("saas", all, CONFIGURED)).toBe(true);
    expect(isUnsupported("saas", all, [...CONFIGURED, "11000000300009"])).toBe(false);
  });
});
