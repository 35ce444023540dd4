import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  confidentProdId,
  orderProdIds,
  planRound,
  prodIdKey,
} from "../../../src/reconcile/prodIds.js";

const CONFIGURED = ["11000000300006", "11010000138001", "11000000300005", "11030000180001"];
const ROBOT = "11030000180001";

describe("prodIdKey", () => {
  it.each([
    ["ALICOM_SMART_SAAS^1000003^12345678", "saas"],
    ["order-1", "p:order-"],
    ["code123456789", "p:code"],
    ["ivr_77", "p:ivr_"],
    ["订单42", "p:订单"],
    ["123456", "digits"],
    [null, "none"],
    ["", "none"],
  ])("%j → %s", (outId, key) => {
    expect(prodIdKey(outId)).toBe(key);
  });
});

describe("orderProdIds", () => {
  it("keeps the configured order without answers", () => {
    expect(orderProdIds(CONFIGURED, undefined)).toEqual(CONFIGURED);
  });

  it("puts the ProdIds that answered most first, ties in configured order", () => {
    const stats = new Map([
      [ROBOT, 3],
      ["11000000300005", 3],
      ["11010000138001", 1],
    ]);
    expect(orderProdIds(CONFIGURED, stats)).toEqual([
      "11000000300005",
      ROBOT,
      "11010000138001",
      "11000000300006",
    ]);
  });
});

describe("confidentProdId", () => {
  it("needs enough answers", () => {
    expect(confidentProdId(CONFIGURED, new Map([[ROBOT, 4]]))).toBeUndefined();
    expect(confidentProdId(CONFIGURED, new Map([[ROBOT, 5]]))).toBe(ROBOT);
  });

  it("needs a clear majority", () => {
    expect(
      confidentProdId(
        CONFIGURED,
        new Map([
          [ROBOT, 8],
          ["11000000300006", 2],
        ]),
      ),
    ).toBeUndefined();
    expect(
      confidentProdId(
        CONFIGURED,
        new Map([
          [ROBOT, 18],
          ["11000000300006", 2],
        ]),
      ),
    ).toBe(ROBOT);
  });

  it("ignores ProdIds that are no longer configured", () => {
    expect(confidentProdId(["11000000300006"], new Map([[ROBOT, 50]]))).toBeUndefined();
  });
});

describe("planRound", () => {
  const trusted = new Map([[ROBOT, 20]]);

  it("asks only the trusted ProdId: the common case costs one request", () => {
    expect(planRound(CONFIGURED, trusted, { attempts: 0, final: false })).toEqual([ROBOT]);
    expect(planRound(CONFIGURED, trusted, { attempts: 1, final: false })).toEqual([ROBOT]);
  });

  it("still tries every ProdId every fourth round and in the final round", () => {
    expect(planRound(CONFIGURED, trusted, { attempts: 3, final: false })).toHaveLength(4);
    expect(planRound(CONFIGURED, trusted, { attempts: 1, final: true })[0]).toBe(ROBOT);
    expect(planRound(CONFIGURED, trusted, { attempts: 1, final: true })).toHaveLength(4);
  });

  it("tries every ProdId, learned ones first, for kinds it does not trust yet", () => {
    expect(planRound(CONFIGURED, new Map([[ROBOT, 2]]), { attempts: 0, final: false })).toEqual([
      ROBOT,
      ...CONFIGURED.slice(0, 3),
    ]);
  });
});

describe("what the receipts reveal", () => {
  it("splits calls without an out_id by the product their receipts show", () => {
    expect(prodIdKey(null, { dtmf: "12#" })).toBe("none:ivr");
    expect(prodIdKey("", { voiceType: "asr" })).toBe("none:smart");
    expect(prodIdKey(null, { voiceType: "smart_transfer", dtmf: "1" })).toBe("none:smart");
    expect(prodIdKey(null, { earlyMediaCode: "200005" })).toBe("none:smart");
    expect(prodIdKey(null, { dtmf: "", voiceType: "voice", earlyMediaCode: null })).toBe("none");
  });

  it("an out_id decides the key whatever the receipts show", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.record({
          dtmf: fc.option(fc.string()),
          voiceType: fc.option(fc.constantFrom("asr", "smart_transfer", "voice")),
          earlyMediaCode: fc.option(fc.string()),
        }),
        (outId, clues) => {
          expect(prodIdKey(outId, clues)).toBe(prodIdKey(outId));
        },
      ),
    );
  });

  it("tries the key's likely ProdId first until answers say otherwise", () => {
    expect(orderProdIds(CONFIGURED, undefined, "saas")[0]).toBe(ROBOT);
    expect(orderProdIds(CONFIGURED, undefined, "none:ivr")[0]).toBe("11000000300005");
    expect(orderProdIds(CONFIGURED, undefined, "none")).toEqual(CONFIGURED);
    expect(orderProdIds(CONFIGURED, new Map([["11000000300006", 1]]), "saas")[0]).toBe(
      "11000000300006",
    );
  });

  it("a likely ProdId only reorders: every configured ProdId is still tried", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("saas", "none", "none:ivr", "none:smart", "p:vn", "digits"),
        fc.array(fc.nat(20), { minLength: 4, maxLength: 4 }),
        (key, counts) => {
          const stats = new Map(CONFIGURED.map((id, i) => [id, counts[i]!]));
          expect([...orderProdIds(CONFIGURED, stats, key)].sort()).toEqual([...CONFIGURED].sort());
        },
      ),
    );
  });
});
