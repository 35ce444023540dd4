import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  EMPTY_FIELD,
  UNSUPPORTED_MIN_CALLS,
  UNSUPPORTED_SAMPLE_EVERY,
  inSample,
  isUnsupported,
} from "../../../src/reconcile/unsupportedKinds.js";

const stats = (o: Record<string, Record<string, number>>) =>
  new Map(Object.entries(o).map(([k, v]) => [k, new Map(Object.entries(v))]));

describe("isUnsupported", () => {
  it("flags a kind empty across many calls while others are found", () => {
    const all = stats({
      saas: { [EMPTY_FIELD]: UNSUPPORTED_MIN_CALLS },
      "p:vn": { "11000000300006": UNSUPPORTED_MIN_CALLS },
    });
    expect(isUnsupported("saas", all)).toBe(true);
    expect(isUnsupported("p:vn", all)).toBe(false);
  });

  it("never flags a kind when nothing else is found either (the API, not the kind)", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(UNSUPPORTED_MIN_CALLS - 1), (empty, others) => {
        const all = stats({ saas: { [EMPTY_FIELD]: empty }, "p:vn": { "1": others } });
        expect(isUnsupported("saas", all)).toBe(false);
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
        expect(isUnsupported("saas", all)).toBe(false);
      }),
    );
  });

  it("needs enough empty calls before judging", () => {
    const all = stats({
      saas: { [EMPTY_FIELD]: UNSUPPORTED_MIN_CALLS - 1 },
      "p:vn": { "1": 1000 },
    });
    expect(isUnsupported("saas", all)).toBe(false);
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
