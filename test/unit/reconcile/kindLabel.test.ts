import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { KIND_LABELS_MAX, kindLabeler } from "../../../src/reconcile/metrics.js";
import { prodIdKey } from "../../../src/reconcile/prodIds.js";

describe("the kind label of unsupported skips", () => {
  it("stays bounded whatever out_ids come, and a key keeps its label", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string()), { maxLength: 300 }), (outIds) => {
        const label = kindLabeler();
        const seen = new Map<string, string>();
        for (const outId of outIds) {
          const key = prodIdKey(outId);
          const l = label(key);
          expect(l === key || l === "other").toBe(true);
          if (l !== "other") {
            expect(seen.get(key) ?? l).toBe(l);
            seen.set(key, l);
          }
        }
        const prefixes = [...seen.values()].filter((l) => l.startsWith("p:"));
        expect(prefixes.length).toBeLessThanOrEqual(KIND_LABELS_MAX);
      }),
    );
  });

  it("labels the fixed keys as themselves even after the prefixes ran out", () => {
    const label = kindLabeler(1);
    expect(label("p:order-")).toBe("p:order-");
    expect(label("p:code")).toBe("other");
    expect(label("p:order-")).toBe("p:order-");
    for (const k of ["saas", "none", "none:ivr", "digits"]) {
      expect(label(k)).toBe(k);
    }
  });
});
