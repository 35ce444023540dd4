import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { CONFIDENT_MIN_ANSWERS } from "../../../src/reconcile/prodIds.js";
import { evidenceField, planCallRound, sweepShouldStop } from "../../../src/reconcile/roundPlan.js";
import {
  EMPTY_FIELD,
  emptyField,
  inSample,
  probeProdId,
  SUSPECT_LIKELY_EMPTY,
  UNSUPPORTED_MIN_CALLS,
} from "../../../src/reconcile/unsupportedKinds.js";

const CONFIGURED = ["11000000300006", "11010000138001", "11000000300005", "11030000180001"];
const ROBOT = "11030000180001";
const FOUND_ELSEWHERE = ["p:vn", new Map([["11000000300006", 1000]])] as const;
const all = (saas: Record<string, number>) =>
  new Map([["saas", new Map(Object.entries(saas))], FOUND_ELSEWHERE]);
const ids = Array.from({ length: 400 }, (_, i) => `1000${i}^2000${i * 7}`);
const sampled = ids.find((id) => inSample(id))!;
const notSampled = ids.find((id) => !inSample(id))!;
const base = { configured: CONFIGURED, key: "saas", attempts: 0, final: false };

describe("planCallRound", () => {
  it("sweeps a new kind, its likely ProdId first", () => {
    expect(planCallRound({ ...base, all: new Map(), callId: notSampled })).toEqual({
      mode: "sweep",
      prodIds: [ROBOT, ...CONFIGURED.slice(0, 3)],
    });
  });

  it("probes one ProdId per call once a kind never found was swept empty", () => {
    const plan = planCallRound({ ...base, all: all({ [EMPTY_FIELD]: 1 }), callId: notSampled });
    expect(plan).toEqual({ mode: "probe", prodIds: [probeProdId(CONFIGURED, notSampled, 0)] });
  });

  it("skips an unsupported kind but for the sample, which asks one ProdId", () => {
    const judged = all({ [EMPTY_FIELD]: UNSUPPORTED_MIN_CALLS });
    expect(planCallRound({ ...base, all: judged, callId: notSampled })).toEqual({ mode: "skip" });
    expect(planCallRound({ ...base, all: judged, callId: sampled })).toEqual({
      mode: "sample",
      prodIds: [ROBOT],
    });
  });

  it("asks every ProdId on the final round of a call it would ask at all", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(EMPTY_FIELD, ...CONFIGURED, ...CONFIGURED.map(emptyField)),
          fc.nat(100),
        ),
        fc.nat(20),
        fc.constantFrom(sampled, notSampled),
        (saas, attempts, callId) => {
          const plan = planCallRound({ ...base, all: all(saas), attempts, final: true, callId });
          if (plan.mode !== "skip") {
            expect([...plan.prodIds].sort()).toEqual([...CONFIGURED].sort());
          }
        },
      ),
    );
  });

  it("a kind found under a ProdId is never probed nor skipped", () => {
    fc.assert(
      fc.property(fc.nat(UNSUPPORTED_MIN_CALLS * 2), fc.nat(20), (empty, attempts) => {
        const plan = planCallRound({
          ...base,
          all: all({ [EMPTY_FIELD]: empty, [ROBOT]: Math.max(1, empty) }),
          attempts,
          callId: notSampled,
        });
        expect(["sweep", "trusted"]).toContain(plan.mode);
      }),
    );
  });

  it("a trusted kind asks its one ProdId", () => {
    const plan = planCallRound({
      ...base,
      all: all({ [ROBOT]: CONFIDENT_MIN_ANSWERS }),
      callId: notSampled,
    });
    expect(plan).toEqual({ mode: "trusted", prodIds: [ROBOT] });
  });
});

describe("sweepShouldStop", () => {
  const stop = (final: boolean, stats: Map<string, number> | undefined, key = "saas") =>
    sweepShouldStop({ mode: "sweep", final, stats, configured: CONFIGURED, key });

  it("stops only a non-final sweep of a kind turned suspect", () => {
    const suspect = new Map([[EMPTY_FIELD, 1]]);
    expect(stop(false, suspect)).toBe(true);
    expect(stop(true, suspect)).toBe(false);
    expect(stop(false, undefined)).toBe(false);
    expect(
      stop(
        false,
        new Map([
          [EMPTY_FIELD, 1],
          [ROBOT, 1],
        ]),
      ),
    ).toBe(false);
    expect(
      sweepShouldStop({
        mode: "trusted",
        final: false,
        stats: suspect,
        configured: CONFIGURED,
        key: "saas",
      }),
    ).toBe(false);
  });

  it("stops the first calls of a new kind once its likely ProdId was often empty", () => {
    const often = new Map([[emptyField(ROBOT), SUSPECT_LIKELY_EMPTY]]);
    expect(stop(false, often)).toBe(true);
    // Without a likely ProdId (an out_id prefix), its first ProdId being empty says nothing.
    expect(stop(false, new Map([[emptyField(CONFIGURED[0]!), 100]]), "p:ivr")).toBe(false);
  });
});

describe("evidenceField", () => {
  it("sweeps and probes note the ProdId asked, sampled and trusted rounds nothing", () => {
    expect(evidenceField("sweep", ROBOT)).toBe(emptyField(ROBOT));
    expect(evidenceField("probe", ROBOT)).toBe(emptyField(ROBOT));
    expect(evidenceField("sample", ROBOT)).toBeUndefined();
    expect(evidenceField("trusted", ROBOT)).toBeUndefined();
  });
});
