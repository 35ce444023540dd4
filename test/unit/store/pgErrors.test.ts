import { describe, expect, it } from "vitest";

import {
  isDataError,
  isNotMigrated,
  isTransactionConflict,
  sqlState,
} from "../../../src/store/pgErrors.js";

const pgError = (code: string) => Object.assign(new Error("pg"), { code });

describe("pgErrors", () => {
  it("classifies the codes the callers act on", () => {
    expect(isTransactionConflict(pgError("40001"))).toBe(true);
    expect(isTransactionConflict(pgError("40P01"))).toBe(true);
    expect(isDataError(pgError("22P02"))).toBe(true); // invalid_text_representation
    expect(isDataError(pgError("23505"))).toBe(true); // unique_violation
    expect(isDataError(pgError("54000"))).toBe(true); // program_limit_exceeded
    expect(isNotMigrated(pgError("42P01"))).toBe(true);
    expect(isNotMigrated(pgError("42883"))).toBe(true);
  });

  it("never takes an unavailable database for a data error or a conflict", () => {
    for (const err of [
      pgError("57P01"), // admin_shutdown
      pgError("08006"), // connection_failure
      pgError("53300"), // too_many_connections
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      new Error("timeout exceeded when trying to connect"),
      undefined,
      null,
      "text",
    ]) {
      expect(isDataError(err)).toBe(false);
      expect(isTransactionConflict(err)).toBe(false);
      expect(isNotMigrated(err)).toBe(false);
    }
  });

  it("reads a data error by class, whatever the subclass", () => {
    for (const code of [
      "22000",
      "22001",
      "22021",
      "22P05",
      "23502",
      "23P01",
      "54001",
      "42601",
      "25P02",
    ]) {
      expect(sqlState(pgError(code))).toBe(code);
      expect(isDataError(pgError(code))).toBe(["22", "23", "54"].includes(code.slice(0, 2)));
    }
  });
});
