/**
 * PostgreSQL errors by class, the one place that reads SQLSTATE codes (as graphile/worker's
 * CLASH_CODES). Callers ask what an error means for them (retry the transaction? blame the
 * data? not migrated?) instead of comparing codes. Codes: PostgreSQL's "Appendix A. PostgreSQL
 * Error Codes".
 */

/** SQLSTATE of a PostgreSQL error (pg's DatabaseError.code); undefined for anything else. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * The transaction lost a race and can simply run again: 40001 serialization_failure,
 * 40P01 deadlock_detected.
 */
export const TRANSACTION_CONFLICT_CODES: ReadonlySet<string> = new Set(["40001", "40P01"]);

/**
 * Classes where PostgreSQL refused the data itself, so sending it again cannot succeed:
 * 22 data exception, 23 integrity constraint violation, 54 program limit exceeded.
 */
export const DATA_ERROR_CLASSES: ReadonlySet<string> = new Set(["22", "23", "54"]);

/** The schema is not there (the database is not migrated): 42P01 undefined_table, 42883 undefined_function. */
export const NOT_MIGRATED_CODES: ReadonlySet<string> = new Set(["42P01", "42883"]);

export function isTransactionConflict(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && TRANSACTION_CONFLICT_CODES.has(code);
}

/** PostgreSQL answered, and refused a value: the data is at fault, not the database. */
export function isDataError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && DATA_ERROR_CLASSES.has(code.slice(0, 2));
}

export function isNotMigrated(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && NOT_MIGRATED_CODES.has(code);
}
