/**
 * Steady traffic (`simulate --traffic`) moves each generated call so it ends just before now:
 * the call keeps its shape (gaps between its times, whole seconds) and never ends after the
 * instant asked for, however far the generator's own clock has run.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { CALL_KINDS, createCallGenerator, endingBy } from "../../../src/simulator/calls.js";

const times = (c: ReturnType<typeof endingBy>) =>
  [
    c.originateTime,
    c.ringTime,
    c.startTime,
    c.endTime,
    c.recordBeginTime,
    ...c.dtmf.map((d) => d.at),
  ].filter((t): t is number => t !== undefined);

describe("endingBy", () => {
  it("ends within a second before endBy, keeps every gap, stays on whole seconds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom(...CALL_KINDS),
        fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
        fc.integer({ min: 0, max: 10 }),
        (seed, kind, endBy, skip) => {
          const gen = createCallGenerator({ seed });
          for (let i = 0; i < skip; i++) {
            gen.next();
          }
          const call = gen.next(kind);
          const moved = endingBy(call, endBy);
          expect(moved.endTime).toBeLessThanOrEqual(endBy);
          expect(moved.endTime).toBeGreaterThan(endBy - 1000);
          const before = times(call);
          const after = times(moved);
          expect(after.map((t) => t - after[0]!)).toEqual(before.map((t) => t - before[0]!));
          // Whole seconds, like the generator's own (key presses fall between).
          for (const t of [moved.originateTime, moved.ringTime, moved.startTime, moved.endTime]) {
            expect(t === undefined || t % 1000 === 0).toBe(true);
          }
          expect(moved.durationSeconds).toBe(call.durationSeconds);
        },
      ),
    );
  });

  it("lets a generator far ahead of the clock still produce calls that ended", () => {
    // At 40 calls/s the generator's cursor runs 2 minutes ahead per second of real time.
    const gen = createCallGenerator({ seed: 3, startTime: Date.now() + 4 * 3600_000 });
    const now = Date.now();
    for (const call of gen.generate(50)) {
      expect(endingBy(call, now).endTime).toBeLessThanOrEqual(now);
    }
  });
});
