import { describe, expect, it } from "vitest";

import {
  describePolicy,
  isSuccessfulReport,
  policySelects,
  sampleFraction,
  type PolicyFacts,
} from "../../../src/reconcile/selection.js";

const facts = (over: Partial<PolicyFacts>): PolicyFacts => ({
  callId: "116012854210^104753038210",
  hasReport: true,
  statusCode: "200000",
  ...over,
});

describe("VMS_RECONCILE_POLICY selection", () => {
  it("all: selects every call, with or without a report", () => {
    for (const f of [facts({}), facts({ hasReport: false, statusCode: null })]) {
      expect(policySelects({ kind: "all" }, f)).toBe(true);
    }
  });

  it("incomplete: leaves out exactly the calls whose VoiceReport says success", () => {
    const incomplete = { kind: "incomplete" } as const;
    for (const code of ["200000", "200001", "200100"]) {
      expect(policySelects(incomplete, facts({ statusCode: code })), code).toBe(false);
    }
    for (const code of ["200002", "200003", "200005", "200010", "200011", "999999", "502"]) {
      expect(policySelects(incomplete, facts({ statusCode: code })), code).toBe(true);
    }
    // No VoiceReport: whatever an in-call event put in status_code, the call is incomplete.
    expect(policySelects(incomplete, facts({ hasReport: false, statusCode: "200000" }))).toBe(true);
    expect(policySelects(incomplete, facts({ hasReport: false, statusCode: null }))).toBe(true);
    // A VoiceReport without a status tells nothing about success.
    expect(policySelects(incomplete, facts({ statusCode: null }))).toBe(true);
    expect(isSuccessfulReport(facts({ statusCode: "200001" }))).toBe(true);
  });

  it("sample: a stable fraction in [0, 1) per call_id, independent of the report", () => {
    const id = "123456789012^987654321098";
    const x = sampleFraction(id);
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThan(1);
    expect(sampleFraction(id)).toBe(x);
    const pick = (rate: number, f: PolicyFacts) => policySelects({ kind: "sample", rate }, f);
    expect(pick(Math.min(1, x + 1e-9), facts({ callId: id }))).toBe(true);
    expect(pick(x, facts({ callId: id }))).toBe(false);
    expect(pick(Math.min(1, x + 1e-9), facts({ callId: id, hasReport: false }))).toBe(true);
  });

  it("sample: chooses close to the asked share of many call_ids", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `${100000000000 + i}^${200000000000 + i}`);
    for (const rate of [0.01, 0.1, 0.5]) {
      const chosen = ids.filter((id) =>
        policySelects({ kind: "sample", rate }, facts({ callId: id })),
      );
      // Binomial: 5 standard deviations either side.
      const sd = Math.sqrt(ids.length * rate * (1 - rate));
      expect(Math.abs(chosen.length - ids.length * rate), `rate ${rate}`).toBeLessThan(5 * sd);
    }
  });

  it("describes the policy the way it is configured", () => {
    expect(describePolicy({ kind: "all" })).toBe("all");
    expect(describePolicy({ kind: "incomplete" })).toBe("incomplete");
    expect(describePolicy({ kind: "sample", rate: 0.25 })).toBe("sample:0.25");
  });
});
