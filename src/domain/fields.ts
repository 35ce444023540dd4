/**
 * Coercers for receipt field values. Alibaba documents every field as String but sends some as
 * JSON numbers (`"duration": "8"` beside `"b_duration": 8`), and uses "" for "absent"
 * (docs/alibaba.md §1.2). Each coercer maps those wire forms to one typed value or a reason.
 */
import { describeJsonType } from "./json.js";
import { parseBeijingTime, receiptYearProblem } from "./time.js";

export type FieldResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const fail = <T>(field: string, problem: string): FieldResult<T> => ({
  ok: false,
  reason: `field "${field}" ${problem}`,
});

/** Quotes a bad value for a reason, shortened so a huge field cannot flood logs/rows. */
export function quoteValue(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** null, undefined, "" and whitespace-only strings all mean "absent" (docs/alibaba.md §7). */
export function isAbsent(value: unknown): boolean {
  return (
    value === undefined || value === null || (typeof value === "string" && value.trim() === "")
  );
}

/**
 * Decimal text of a finite number without exponent notation, so 1e21 and "1000000000000000000000"
 * agree and the dedup key of a number equals that of the same digits sent as a string.
 */
export function numberToDecimal(n: number): string {
  if (Number.isInteger(n)) {
    return BigInt(n).toString();
  }
  const text = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) {
    return text;
  }
  const [, sign = "", int = "", frac = "", expText = "0"] = m;
  const digits = int + frac;
  const point = int.length + Number(expText);
  const body =
    point <= 0
      ? `0.${"0".repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + "0".repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign + body;
}

/**
 * string | number | null → string | null. Absent forms become null; numbers become their decimal
 * text; non-empty strings are kept exactly (no trimming, Chinese untouched). Booleans, objects
 * and arrays are not text: they fail.
 */
export function coerceText(value: unknown, field: string): FieldResult<string | null> {
  if (isAbsent(value)) {
    return ok(null);
  }
  if (typeof value === "string") {
    return ok(value);
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    return ok(numberToDecimal(value));
  }
  return fail(field, `must be a string or a number, got ${describeJsonType(value)}`);
}

export interface IntegerRange {
  min?: number;
  max?: number;
}

/** PostgreSQL `integer` upper bound: durations are stored in int4 columns. */
export const INT4_MAX = 2_147_483_647;

const INTEGER_TEXT = /^[+-]?\d+(?:\.0+)?$/;

/**
 * string | number | null → integer | null.
 * Accepted: 10, "10", " 10 ", "+10", "010" and "10.0" / 10.0 (a zero fraction is still exactly
 * an integer; some serialisers print one). Rejected: "10.5" (we would have to invent a rounding
 * rule), "abc", "1e3", "0x1A", booleans, values outside `range` or outside the safe-integer range.
 */
export function coerceInteger(
  value: unknown,
  field: string,
  range: IntegerRange = {},
): FieldResult<number | null> {
  if (isAbsent(value)) {
    return ok(null);
  }
  let n: number;
  if (typeof value === "number") {
    n = value;
  } else if (typeof value === "string" && INTEGER_TEXT.test(value.trim())) {
    n = Number(value.trim());
  } else {
    return fail(field, `must be a whole number, got ${quoteValue(value)}`);
  }
  if (!Number.isSafeInteger(n)) {
    return fail(field, `must be a whole number, got ${quoteValue(value)}`);
  }
  if (range.min !== undefined && n < range.min) {
    return fail(field, `must be at least ${range.min}, got ${quoteValue(value)}`);
  }
  if (range.max !== undefined && n > range.max) {
    return fail(field, `must be at most ${range.max}, got ${quoteValue(value)}`);
  }
  return ok(n === 0 ? 0 : n); // never -0
}

/** Seconds as stored in `duration_seconds`: a non-negative int4. */
export function coerceDuration(value: unknown, field: string): FieldResult<number | null> {
  return coerceInteger(value, field, { min: 0, max: INT4_MAX });
}

/**
 * `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai), in RECEIPT_YEAR_MIN–RECEIPT_YEAR_MAX → Date; absent →
 * null; anything else fails.
 */
export function coerceTime(value: unknown, field: string): FieldResult<Date | null> {
  if (isAbsent(value)) {
    return ok(null);
  }
  if (typeof value !== "string") {
    return fail(field, `must be a time string yyyy-MM-dd HH:mm:ss, got ${describeJsonType(value)}`);
  }
  const parsed = parseBeijingTime(value);
  const problem = parsed.ok ? receiptYearProblem(parsed.value) : parsed.reason;
  return problem === null && parsed.ok
    ? ok(parsed.value)
    : fail(field, `is not a valid time: ${quoteValue(value)} (${problem})`);
}

// A Map, not an object literal: a lookup of "constructor" must not find Object's own function.
const HANGUP_DIRECTIONS: ReadonlyMap<string, string> = new Map([
  ["用户", "user"],
  ["机器", "machine"],
  // Robot (SAAS) docs call the machine side 机器人 (docs/alibaba.md §5, HangupDirection 1=机器人).
  ["机器人", "machine"],
  ["user", "user"],
  ["machine", "machine"],
  ["aleg", "aleg"],
  ["bleg", "bleg"],
]);

/**
 * hangup_direction: 用户 → "user", 机器/机器人 → "machine"; English User/Machine and the DoubleCall
 * leg names aleg/bleg → lower case. Unknown values are kept exactly, so nothing is lost and a new
 * value shows up in reports instead of silently becoming NULL.
 */
export function normalizeHangupDirection(value: string | null): string | null {
  if (value === null) {
    return null;
  }
  const key = value.trim();
  return HANGUP_DIRECTIONS.get(key) ?? HANGUP_DIRECTIONS.get(key.toLowerCase()) ?? value;
}
