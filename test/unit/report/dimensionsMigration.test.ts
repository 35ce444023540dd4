/**
 * The outcome tables of migrations/0006_report_dimensions.sql are the data of
 * src/domain/callDimensions.ts (and SMART_STATUS_CODES); this keeps the two in step.
 */
import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import {
  CARRIER_OUTCOMES,
  NUMBER_STATES,
  OUTCOME_MEANINGS,
  OUTCOMES,
  SMART_OUTCOMES,
} from "../../../src/domain/callDimensions.js";
import {
  CALL_EVENT_CODES,
  CARRIER_STATUS_CODES,
  SMART_STATUS_CODES,
} from "../../../src/domain/statusCodes.js";

const SQL = readFileSync(
  new URL("../../../migrations/0006_report_dimensions.sql", import.meta.url),
  "utf8",
);

function block(start: string, end: string): string {
  const from = SQL.indexOf(start);
  return SQL.slice(from, SQL.indexOf(end, from));
}

describe("the outcome tables of the report dimensions migration", () => {
  it("gives every carrier and in-call code the outcome of CARRIER_OUTCOMES", () => {
    const rows = [
      ...block('UPDATE "status_codes"', "AS v(code").matchAll(/\('([^']*)', '([^']*)'\)/g),
    ].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).toEqual(CARRIER_OUTCOMES);
    expect(new Set(Object.keys(CARRIER_OUTCOMES))).toEqual(
      new Set([...Object.keys(CARRIER_STATUS_CODES), ...Object.keys(CALL_EVENT_CODES)]),
    );
  });

  it("has every smart status code with its meaning and outcome", () => {
    const rows = [
      ...block('INSERT INTO "smart_status_codes"', "ON CONFLICT").matchAll(
        /\('([^']*)', '([^']*)', '([^']*)'\)/g,
      ),
    ];
    expect(Object.fromEntries(rows.map((m) => [m[1], m[2]]))).toEqual(SMART_STATUS_CODES);
    expect(Object.fromEntries(rows.map((m) => [m[1], m[3]]))).toEqual(SMART_OUTCOMES);
  });

  it("lists the outcomes in order with their meanings and number states", () => {
    const rows = [
      ...block('INSERT INTO "call_outcomes"', "ON CONFLICT").matchAll(
        /\('([^']*)', '([^']*)', (\d+), (NULL|'[^']*')\)/g,
      ),
    ];
    expect(rows.map((m) => m[1])).toEqual([...OUTCOMES]);
    for (const m of rows) {
      const o = m[1] as (typeof OUTCOMES)[number];
      expect(m[2], o).toBe(OUTCOME_MEANINGS[o]);
      expect(m[4] === "NULL" ? undefined : m[4]!.slice(1, -1), o).toBe(NUMBER_STATES[o]);
    }
  });
});
