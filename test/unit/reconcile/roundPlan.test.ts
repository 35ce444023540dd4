import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { CONFIDENT_MIN_ANSWERS } from "../../../src/reconcile/prodIds.js";
import {
  evidenceFields,
  planCallRound,
  sweepShouldStop,
} from "../../../src/reconcile/roundPlan.js";
import {
  EMPTY_FIELD,
  emptyField,
  inSample,
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
    expect(plan).toEqual({ mode: "probe", prodIds: [ROBOT] });
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
  it("stops only a non-final sweep of a kind turned suspect", () => {
    const suspect = new Map([[EMPTY_FIELD, 1]]);
    expect(sweepShouldStop("sweep", false, suspect)).toBe(true);
    expect(sweepShouldStop("sweep", true, suspect)).toBe(false);
    expect(sweepShouldStop("sweep", false, undefined)).toBe(false);
    expect(
      sweepShouldStop(
        "sweep",
        false,
        new Map([
          [EMPTY_FIELD, 1],
          [ROBOT, 1],
        ]),
      ),
    ).toBe(false);
  });
});

describe("evidenceFields", () => {
  it("a full sweep is evidence for every ProdId, a partial one for those asked", () => {
    expect(evidenceFields("sweep", CONFIGURED, CONFIGURED)).toEqual([EMPTY_FIELD]);
    expect(evidenceFields("sweep", CONFIGURED.slice(0, 2), CONFIGURED)).toEqual(
      CONFIGURED.slice(0, 2).map(emptyField),
    );
    expect(evidenceFields("probe", [ROBOT], CONFIGURED)).toEqual([emptyField(ROBOT)]);
    expect(evidenceFields("sample", [ROBOT], CONFIGURED)).toEqual([]);
    expect(evidenceFields("trusted", [ROBOT], CONFIGURED)).toEqual([]);
  });
});
