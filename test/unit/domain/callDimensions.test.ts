/**
 * The product and outcome rules of the reports (src/domain/callDimensions.ts), as properties
 * over open inputs; test/integration/reportDimensions.test.ts checks the SQL twins agree.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  callOutcome,
  callProduct,
  CARRIER_OUTCOMES,
  NUMBER_STATES,
  OUTCOMES,
  PROD_ID_PRODUCTS,
  PRODUCTS,
  SMART_OUTCOMES,
  type ProductFacts,
} from "../../../src/domain/callDimensions.js";
import { ANSWERED_STATUS_CODES } from "../../../src/domain/statusCodes.js";

const prodIds = Object.keys(PROD_ID_PRODUCTS);
const someText = fc.oneof(fc.constant(null), fc.string(), fc.constantFrom("", "1", "12#"));
const productFacts: fc.Arbitrary<ProductFacts> = fc.record({
  direction: fc.constantFrom("outbound" as const, "inbound" as const),
  outId: fc.oneof(
    someText,
    fc.string().map((s) => `ALICOM_SMART_SAAS^${s}`),
    fc.constantFrom("ALICOM_SMART_SAAS", "alicom_smart_saas^1", "x^ALICOM_SMART_SAAS^1"),
  ),
  prodId: fc.oneof(
    fc.constant(null),
    fc.constantFrom(...prodIds, "11000000300009", " 11000000300006", "constructor"),
    fc.string(),
  ),
  smartTrace: fc.boolean(),
  dtmf: someText,
});

describe("callProduct", () => {
  it("is always one of the six products", () => {
    fc.assert(fc.property(productFacts, (f) => PRODUCTS.includes(callProduct(f))));
  });

  it("calls inbound exactly the inbound direction, whatever else is stored", () => {
    fc.assert(
      fc.property(
        productFacts,
        (f) => (callProduct(f) === "inbound") === (f.direction === "inbound"),
      ),
    );
  });

  it("makes every outbound ALICOM_SMART_SAAS^ out_id a robot call, and nothing else", () => {
    fc.assert(
      fc.property(productFacts, (f) =>
        f.direction === "outbound"
          ? (callProduct(f) === "robot") === (f.outId?.startsWith("ALICOM_SMART_SAAS^") ?? false)
          : true,
      ),
    );
  });

  it("trusts a known ProdId over traces and key presses", () => {
    fc.assert(
      fc.property(productFacts, fc.constantFrom(...prodIds), (f, prodId) => {
        const g = { ...f, direction: "outbound" as const, outId: "order-1", prodId };
        return callProduct(g) === PROD_ID_PRODUCTS[prodId];
      }),
    );
  });

  it("without a ProdId: smart trace, then key presses, then notification", () => {
    const base = { direction: "outbound" as const, outId: "o-1", prodId: null };
    expect(callProduct({ ...base, smartTrace: true, dtmf: "1" })).toBe("smart");
    expect(callProduct({ ...base, smartTrace: false, dtmf: "1" })).toBe("ivr");
    expect(callProduct({ ...base, smartTrace: false, dtmf: "" })).toBe("notification");
    expect(callProduct({ ...base, smartTrace: false, dtmf: null, prodId: "11000000300009" })).toBe(
      "notification",
    );
    // A verification-code call is told apart only by its ProdId.
    expect(callProduct({ ...base, smartTrace: false, dtmf: null, prodId: "11010000138001" })).toBe(
      "verification",
    );
  });
});

const code = fc.oneof(
  fc.constant(null),
  fc.constantFrom(
    ...Object.keys(CARRIER_OUTCOMES),
    ...Object.keys(SMART_OUTCOMES),
    "502",
    "toString",
  ),
  fc.string(),
);

describe("callOutcome", () => {
  it("is answered exactly when answered, null exactly without a result, else a known outcome", () => {
    fc.assert(
      fc.property(fc.boolean(), code, code, (answered, result, smart) => {
        const o = callOutcome(answered, result, smart);
        if (answered) {
          return o === "answered";
        }
        if (result === null) {
          return o === null;
        }
        return o !== null && o !== "answered" && OUTCOMES.includes(o);
      }),
    );
  });

  it("keeps a specific carrier outcome whatever the smart code says", () => {
    const specific = Object.entries(CARRIER_OUTCOMES).filter(
      ([c, o]) => o !== "other" && o !== "unreachable" && !ANSWERED_STATUS_CODES.includes(c),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...specific),
        code,
        ([c, o], smart) => callOutcome(false, c, smart) === o,
      ),
    );
  });

  it("lets the smart code refine a generic result: 200005 with SUSPEND is 停机", () => {
    expect(callOutcome(false, "200005", "SUSPEND")).toBe("suspended");
    expect(callOutcome(false, "200005", "ANSWERED")).toBe("unreachable");
    expect(callOutcome(false, "502", "INVALID_NUMBER")).toBe("vacant");
    expect(callOutcome(false, "502", null)).toBe("other");
    expect(callOutcome(false, "NO_ANSWER", null)).toBe("no_answer");
    expect(NUMBER_STATES[callOutcome(false, "200011", null)!]).toBe("dead");
    expect(NUMBER_STATES[callOutcome(false, "200002", null)!]).toBeUndefined();
  });
});
