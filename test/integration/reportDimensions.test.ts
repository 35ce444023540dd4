/**
 * The report views compute product and outcome in SQL (vr_call_product, vr_call_outcome of
 * migrations/0006_report_dimensions.sql); src/domain/callDimensions.ts states the same rules in
 * TypeScript. Random inputs must get the same answer from both.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, it } from "vitest";

import {
  callOutcome,
  callProduct,
  CARRIER_OUTCOMES,
  PROD_ID_PRODUCTS,
  SMART_OUTCOMES,
} from "../../src/domain/callDimensions.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

// PostgreSQL text cannot hold NUL.
const text = fc.string().filter((s) => !s.includes("\u0000"));
const maybe = (a: fc.Arbitrary<string>) => fc.oneof(fc.constant(null), a);
const codes = [...Object.keys(CARRIER_OUTCOMES), ...Object.keys(SMART_OUTCOMES), "502"];

describe("report dimensions: SQL and TypeScript agree", () => {
  it("on the product of a call", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          direction: fc.constantFrom("outbound" as const, "inbound" as const),
          outId: maybe(
            fc.oneof(
              text,
              text.map((s) => `ALICOM_SMART_SAAS^${s}`),
            ),
          ),
          prodId: maybe(fc.oneof(fc.constantFrom(...Object.keys(PROD_ID_PRODUCTS)), text)),
          smartTrace: fc.boolean(),
          dtmf: maybe(fc.oneof(text, fc.constantFrom("", "1#"))),
        }),
        async (f) => {
          const { rows } = await db.pool.query<{ p: string }>(
            "select vr_call_product($1, $2, $3, $4, $5) as p",
            [f.direction, f.outId, f.prodId, f.smartTrace, f.dtmf],
          );
          return rows[0]!.p === callProduct(f);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("on the outcome of a result", async () => {
    const code = maybe(fc.oneof(fc.constantFrom(...codes), text));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), code, code, async (answered, result, smart) => {
        const { rows } = await db.pool.query<{ o: string | null }>(
          "select vr_call_outcome($1, $2, $3) as o",
          [answered, result, smart],
        );
        return rows[0]!.o === callOutcome(answered, result, smart);
      }),
      { numRuns: 300 },
    );
  });
});
