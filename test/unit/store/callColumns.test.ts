/**
 * The merge rule of `calls` (src/store/calls/columns.ts) drives the SQL of both writers; these
 * tests hold it to schema.ts and to the types the writers fill, so a column added to one of
 * them and not to the rule fails here.
 */
import { getTableColumns } from "drizzle-orm";
import { describe, expect, expectTypeOf, it } from "vitest";

import { emptyPatch } from "../../../src/domain/types.js";
import { detailValues, type DetailValues } from "../../../src/reconcile/detail.js";
import { CALL_PATCH_FIELDS, upsertCallsSql } from "../../../src/store/calls/applyReceipts.js";
import {
  CALL_COLUMNS,
  COLUMNS,
  DETAIL_FIELDS,
  RECEIPT_FIELDS,
  type DetailColumns,
} from "../../../src/store/calls/columns.js";
import { calls } from "../../../src/store/schema.js";

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe("calls merge rule", () => {
  it("names every column of schema.ts, by the same SQL name, and no other", () => {
    const schema = Object.entries(getTableColumns(calls)).map(([key, c]) => `${key}=${c.name}`);
    const rule = COLUMNS.map((c) => `${c.key}=${c.column}`);
    expect(sorted(rule)).toEqual(sorted(schema));
  });

  it("gives every column exactly one writer, and rules only to the columns they may write", () => {
    for (const c of COLUMNS) {
      expect(c.owner === "receipts", c.column).toBe(c.receipt !== undefined);
      // The detail only ever writes a column receipts fill too (the rest is reconcile's own).
      if (c.detail !== undefined) {
        expect(c.receipt, c.column).toBe("cdr");
      }
    }
    expect(CALL_COLUMNS.callId.owner).toBe("key");
  });

  it("derives the receipt fields from the rule: exactly the columns a CallPatch carries", () => {
    const patch = emptyPatch("c", "outbound", "report");
    const notMerged = [
      "callId",
      "direction",
      "source",
      "eventTime",
      "lastEventTime",
      "lastEventCode",
    ];
    const patchFields = Object.keys(patch).filter((k) => !notMerged.includes(k));
    expect(sorted(CALL_PATCH_FIELDS)).toEqual(sorted(patchFields));
    expect(RECEIPT_FIELDS.map((c) => c.key)).toEqual(CALL_PATCH_FIELDS);
  });

  it("derives the detail fields from the rule: exactly the values a detail brings", () => {
    expect(sorted(DETAIL_FIELDS.map((c) => c.key))).toEqual(sorted(Object.keys(detailValues({}))));
    // Checked by tsc: the reconciler's values are exactly the columns the store writes.
    expectTypeOf<DetailColumns>().toEqualTypeOf<DetailValues>();
    // bRingTime only fills: the receipts' ring time is kept when there is one.
    expect(DETAIL_FIELDS.filter((c) => c.detail === "fill").map((c) => c.column)).toEqual([
      "ring_time",
    ]);
  });

  it("writes every receipt column in the upsert, and assigns all but the key on conflict", () => {
    const sql = upsertCallsSql("$1");
    const [insert, onConflict] = sql.split("on conflict");
    for (const c of COLUMNS.filter((x) => x.receipt !== undefined || x.owner === "key")) {
      expect(insert, c.column).toMatch(new RegExp(`\\b${c.column}\\b`));
      expect(onConflict?.includes(`${c.column} = `), c.column).toBe(c.owner !== "key");
    }
    for (const c of COLUMNS.filter((x) => x.owner === "reconcile" || x.owner === "default")) {
      expect(sql, c.column).not.toMatch(new RegExp(`\\b${c.column}\\s*=`));
    }
  });
});
