/**
 * The status_codes table of migrations/0002_report_views.sql is the data of
 * src/domain/statusCodes.ts; this keeps the two in step (a new code needs a new migration).
 */
import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import {
  ANSWERED_STATUS_CODES,
  CALL_EVENT_CODES,
  CARRIER_STATUS_CODES,
  isAnswered,
  statusMeaning,
} from "../../../src/domain/statusCodes.js";

const SQL = readFileSync(
  new URL("../../../migrations/0002_report_views.sql", import.meta.url),
  "utf8",
);

function migrationRows() {
  const insert = SQL.slice(SQL.indexOf('INSERT INTO "status_codes"'), SQL.indexOf("ON CONFLICT"));
  const rows = [...insert.matchAll(/\('([^']*)', '([^']*)', (NULL|'[^']*'), (true|false)\)/g)].map(
    (m) => ({
      code: m[1] as string,
      meaning: m[2] as string,
      eventMeaning: m[3] === "NULL" ? null : (m[3] as string).slice(1, -1),
      answered: m[4] === "true",
    }),
  );
  return rows;
}

describe("status_codes in the report views migration", () => {
  const rows = migrationRows();

  it("has every carrier and in-call code once", () => {
    const codes = rows.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(codes)).toEqual(
      new Set([...Object.keys(CARRIER_STATUS_CODES), ...Object.keys(CALL_EVENT_CODES)]),
    );
  });

  it("has the meanings of statusMeaning and CALL_EVENT_CODES", () => {
    for (const r of rows) {
      expect(r.meaning, r.code).toBe(statusMeaning(r.code));
      expect(r.eventMeaning, r.code).toBe(CALL_EVENT_CODES[r.code] ?? null);
    }
  });

  it("marks answered exactly the codes isAnswered accepts", () => {
    for (const r of rows) {
      expect(r.answered, r.code).toBe(isAnswered(r.code));
    }
    expect(
      rows
        .filter((r) => r.answered)
        .map((r) => r.code)
        .sort(),
    ).toEqual([...ANSWERED_STATUS_CODES].sort());
  });
});
