import { describe, expect, it } from "vitest";

import { parsePushBody } from "../../../src/domain/envelope.js";
import { findShapeProblem, UnparsableItem } from "../../../src/domain/json.js";
import { isExactNumber } from "../../../src/domain/jsonText.js";
import { normalizeReceipt } from "../../../src/domain/receipt.js";

describe("isExactNumber", () => {
  it.each(["0", "-0", "10", "1.5", "0.1", "1e21", "9007199254740991", "1.50", "2.5E-3"])(
    "%s is exact",
    (n) => expect(isExactNumber(n)).toBe(true),
  );
  it.each([
    "9007199254740993",
    "12345678901234567890",
    "0.10000000000000000001",
    "1e400",
    "1e-400",
    "123456789.123456789",
  ])("%s is not", (n) => expect(isExactNumber(n)).toBe(false));
});

describe("parsePushBody refuses inexact numbers per element", () => {
  it("only the element holding the number becomes an UnparsableItem", () => {
    const r = parsePushBody(
      '[{"call_id":"1^1"},{"call_id":12345678901234567890},{"n":"12345678901234567890"}]',
    );
    expect(r.kind).toBe("items");
    const items = r.kind === "items" ? r.items : [];
    expect(items[0]).toEqual({ call_id: "1^1" });
    expect(items[1]).toBeInstanceOf(UnparsableItem);
    expect((items[1] as UnparsableItem).text).toBe('{"call_id":12345678901234567890}');
    expect(items[2]).toEqual({ n: "12345678901234567890" });
    expect(normalizeReceipt("VoiceReport", items[1]).ok).toBe(false);
  });

  it("a lone object with one is refused too", () => {
    const r = parsePushBody('{"call_id":1.00000000000000000001}');
    expect(r.kind === "items" && r.items[0]).toBeInstanceOf(UnparsableItem);
  });

  it("the JSON.parse error never quotes the input", () => {
    const r = parsePushBody("x13912345678\u0000");
    expect(r.kind === "invalid" && r.reason).toBe(
      "push body is not valid JSON (Unexpected token 'x')",
    );
  });
});

describe("findShapeProblem is iterative", () => {
  it("reports a value nested 100,000 levels deep without overflowing", () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) {
      v = [v];
    }
    expect(findShapeProblem({ x: v })?.kind).toBe("too-deep");
  });
  it("finds integers beyond 2^53 after the parse", () => {
    expect(findShapeProblem({ a: [1, 2 ** 60] })).toEqual({ kind: "inexact-number", path: "a[1]" });
  });
});
