import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  LAG_MIN_SAMPLES,
  LAG_QUANTILE,
  LAG_WINDOW,
  changedMaterially,
  BASELINE_EVERY,
  BASELINE_SCHEDULE_TOLERANCE_MS,
  isBaselineQuery,
  lagCapMs,
  learnedDelayMs,
} from "../../../src/reconcile/lagEstimate.js";
import { retryBaseMs } from "../../../src/reconcile/policy.js";

const HOUR = 3_600_000;

/**
 * The age at which a baseline call with detail lag `lagMs` is found: first asked at the
 * configured delay, then after retryBase × 1, 2, 4 … (policy.ts afterEmptyRound, without jitter).
 */
function foundAge(lagMs: number, configuredMs: number): number {
  const base = retryBaseMs(configuredMs);
  let at = configuredMs;
  for (let k = 0; at < lagMs; k++) {
    at += base * 2 ** k;
  }
  return at;
}

/** The empirical q quantile of the lags, as the estimate defines it. */
function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

const settings = fc.record({
  configuredMs: fc.integer({ min: 0, max: 600_000 }),
  giveUpMs: fc.integer({ min: HOUR, max: 30 * 24 * HOUR }),
});

describe("the learned first-query delay", () => {
  it("is never below the configured delay nor above the cap, whatever the ages", () => {
    fc.assert(
      fc.property(
        settings,
        fc.array(fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: 0, max: 10 * HOUR }))),
        ({ configuredMs, giveUpMs }, ages) => {
          const capMs = lagCapMs(configuredMs, giveUpMs);
          const d = learnedDelayMs(ages, { configuredMs, capMs });
          expect(d).toBeGreaterThanOrEqual(configuredMs);
          expect(d).toBeLessThanOrEqual(capMs);
          expect(capMs).toBeLessThanOrEqual(Math.max(configuredMs, giveUpMs / 4));
        },
      ),
    );
  });

  it("is at least the lags' 90th percentile (or the cap): ≥ 90 % are there at the first query", () => {
    fc.assert(
      fc.property(
        settings,
        // A synthetic lag distribution: a typical lag and a spread around it.
        fc.integer({ min: 0, max: 40 * 60_000 }),
        fc.integer({ min: 0, max: 20 * 60_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
          minLength: LAG_MIN_SAMPLES,
          maxLength: LAG_WINDOW,
        }),
        ({ configuredMs, giveUpMs }, typicalMs, spreadMs, draws) => {
          const lags = draws.map((u) => Math.round(typicalMs + spreadMs * (u * u)));
          const capMs = lagCapMs(configuredMs, giveUpMs);
          const d = learnedDelayMs(
            lags.map((l) => foundAge(l, configuredMs)),
            { configuredMs, capMs },
          );
          expect(d).toBeGreaterThanOrEqual(Math.min(capMs, quantile(lags, LAG_QUANTILE)));
          if (d < capMs) {
            const there = lags.filter((l) => l <= d).length;
            expect(there / lags.length).toBeGreaterThanOrEqual(LAG_QUANTILE);
          }
        },
      ),
    );
  });

  it("comes back down once 90 % of the window saw a shorter lag", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 300_000 }),
        fc.array(fc.integer({ min: 0, max: 10 * HOUR }), { maxLength: LAG_WINDOW / 10 }),
        fc.integer({ min: 0, max: 600_000 }),
        (configuredMs, oldAges, shortLagMs) => {
          const fresh = Array.from({ length: LAG_WINDOW - oldAges.length }, () =>
            foundAge(shortLagMs, configuredMs),
          );
          const d = learnedDelayMs([...oldAges, ...fresh], {
            configuredMs,
            capMs: lagCapMs(configuredMs, 24 * HOUR),
          });
          expect(d).toBeLessThanOrEqual(Math.max(configuredMs, foundAge(shortLagMs, configuredMs)));
        },
      ),
    );
  });

  it("keeps the configured delay until enough calls were found", () => {
    const s = { configuredMs: 180_000, capMs: HOUR };
    expect(learnedDelayMs(Array(LAG_MIN_SAMPLES - 1).fill(600_000), s)).toBe(180_000);
    expect(learnedDelayMs(Array(LAG_MIN_SAMPLES).fill(600_000), s)).toBe(600_000);
  });

  it("with the defaults, a 5 min lag is first asked at 6 min (the retry step that found it)", () => {
    // Asked at 3, 4, 6 min: found at 6.
    const ages = Array.from({ length: 20 }, () => foundAge(300_000, 180_000));
    expect(
      learnedDelayMs(ages, { configuredMs: 180_000, capMs: lagCapMs(180_000, 24 * HOUR) }),
    ).toBe(360_000);
  });

  it("counts a call as baseline only when scheduled at the delay and first answered within a retry step of it", () => {
    const q = (firstAgeMs: number, scheduledMs: number | undefined, configuredMs = 180_000) =>
      isBaselineQuery({ firstAgeMs, scheduledMs, configuredMs });
    expect(q(180_000, 180_000)).toBe(true);
    expect(q(240_000, 180_000)).toBe(true);
    expect(q(240_001, 180_000)).toBe(false);
    expect(q(400, 0, 0)).toBe(true);
    expect(q(5_000, 0, 0)).toBe(false);
    // Scheduled at a learned delay, even one within a retry step of the configured one: no.
    expect(q(200_500, 200_000)).toBe(false);
    expect(q(181_000, 180_000 + BASELINE_SCHEDULE_TOLERANCE_MS + 1)).toBe(false);
    expect(q(180_000, undefined)).toBe(false);
  });

  it("a learned delay does not hold itself up: with every detail there before the configured delay, it comes back to it", () => {
    // The scheduler's mix: one call in BASELINE_EVERY at the configured delay, the rest at the
    // learned one; jobs run up to 1.7 s late; every detail is there (found at the first query).
    const configuredMs = 180_000;
    const s = { configuredMs, capMs: lagCapMs(configuredMs, 24 * HOUR) };
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let delay = 239_000; // where the age-only rule let it creep (configured + one retry step)
    let window: number[] = Array.from({ length: LAG_WINDOW }, () => delay);
    for (let refresh = 0; refresh < 100; refresh++) {
      for (let call = 0; call < 50; call++) {
        const scheduledMs = random() < 1 / BASELINE_EVERY ? configuredMs : delay;
        const firstAgeMs = scheduledMs + random() * 1700;
        if (isBaselineQuery({ firstAgeMs, scheduledMs, configuredMs })) {
          window = [firstAgeMs, ...window].slice(0, LAG_WINDOW);
        }
      }
      delay = learnedDelayMs(window, s);
    }
    expect(delay).toBeLessThanOrEqual(configuredMs + 2000);
  });

  it("logs changes of a fifth or more", () => {
    expect(changedMaterially(180_000, 200_000)).toBe(false);
    expect(changedMaterially(180_000, 360_000)).toBe(true);
    expect(changedMaterially(360_000, 180_000)).toBe(true);
    expect(changedMaterially(0, 500)).toBe(false);
    expect(changedMaterially(0, 1500)).toBe(true);
  });
});
