/**
 * Pure handling of QueryCallDetailByCallId answers (docs/alibaba.md §4.2): decode `Data` (a JSON
 * *string*, "" when nothing matched), read the fields we map to `calls` columns, and compare
 * them with what the receipts said. No I/O, no clock.
 */
import { coerceDuration, coerceText, normalizeHangupDirection } from "../domain/fields.js";
import { CARRIER_STATUS_CODES } from "../domain/statusCodes.js";
import { parseBeijingTime } from "../domain/time.js";

export type JsonObject = Record<string, unknown>;

export type DecodedData =
  /** A detail record: the call exists for this ProdId and QueryDate. */
  | { kind: "found"; detail: JsonObject }
  /** `Data` empty: wrong ProdId/QueryDate, or the detail is not there yet (3–5 min lag). */
  | { kind: "empty" }
  /** `Data` present but not a JSON object even after repair; treated like "not there". */
  | { kind: "invalid"; reason: string };

const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function parseObject(text: string): JsonObject | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `Data` of a response body. Accepts the documented JSON string and, defensively, an object
 * (some SDKs decode it). The documentation's own example separates members with full-width
 * commas `，` (docs/alibaba.md §4.2); a string that only parses after replacing those is accepted.
 */
export function decodeDetailData(data: unknown): DecodedData {
  if (data === undefined || data === null) {
    return { kind: "empty" };
  }
  if (isObject(data)) {
    return Object.keys(data).length > 0 ? { kind: "found", detail: data } : { kind: "empty" };
  }
  if (typeof data !== "string") {
    return { kind: "invalid", reason: `Data is a ${Array.isArray(data) ? "array" : typeof data}` };
  }
  const text = data.trim();
  if (text === "" || text === "null" || text === "{}") {
    return { kind: "empty" };
  }
  const detail = parseObject(text) ?? parseObject(text.replace(/，(?=\s*")/g, ","));
  if (detail === undefined) {
    return { kind: "invalid", reason: "Data is not a JSON object" };
  }
  return Object.keys(detail).length > 0 ? { kind: "found", detail } : { kind: "empty" };
}

export function decodeDetailResponse(body: unknown): DecodedData {
  return decodeDetailData(isObject(body) ? body.Data : undefined);
}

/** The `calls` columns a detail record speaks for; null = "the detail says nothing". */
export interface DetailValues {
  statusCode: string | null;
  /** `stateDesc` when it is a text (the docs' example repeats the code there instead). */
  statusMsg: string | null;
  startTime: Date | null;
  endTime: Date | null;
  ringTime: Date | null;
  durationSeconds: number | null;
  caller: string | null;
  callee: string | null;
  hangupDirection: string | null;
}

const own = (o: JsonObject, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

function text(o: JsonObject, k: string): string | null {
  const r = coerceText(own(o, k), k);
  return r.ok ? r.value : null;
}

function time(o: JsonObject, k: string): Date | null {
  const v = text(o, k);
  if (v === null) {
    return null;
  }
  const parsed = parseBeijingTime(v);
  return parsed.ok ? parsed.value : null;
}

/** A number with stars in it is masked (`18767****`): never authoritative. */
function number(o: JsonObject, k: string): string | null {
  const v = text(o, k);
  return v === null || v.includes("*") ? null : v;
}

/** `hangupDirection` is an int in the detail (0 = user, 1 = machine, as the robot APIs say). */
function hangup(v: unknown): string | null {
  if (v === 0 || v === "0") {
    return "user";
  }
  if (v === 1 || v === "1") {
    return "machine";
  }
  const t = coerceText(v, "hangupDirection");
  return t.ok ? normalizeHangupDirection(t.value) : null;
}

/** Read the detail's fields; anything malformed is treated as absent, never as a failure. */
export function detailValues(detail: JsonObject): DetailValues {
  const desc = text(detail, "stateDesc");
  const duration = coerceDuration(own(detail, "duration"), "duration");
  return {
    statusCode: text(detail, "state"),
    statusMsg: desc !== null && !/^\d+$/.test(desc.trim()) ? desc : null,
    startTime: time(detail, "startDate") ?? time(detail, "bStartTime"),
    endTime: time(detail, "endDate"),
    ringTime: time(detail, "bRingTime"),
    durationSeconds: duration.ok ? duration.value : null,
    caller: number(detail, "caller"),
    callee: number(detail, "callee"),
    hangupDirection: hangup(own(detail, "hangupDirection")),
  };
}

/** Column name → key of DetailValues, for every field where receipt and detail are compared. */
export const COMPARED_FIELDS = [
  ["status_code", "statusCode"],
  ["start_time", "startTime"],
  ["end_time", "endTime"],
  ["duration_seconds", "durationSeconds"],
  ["caller", "caller"],
  ["callee", "callee"],
  ["hangup_direction", "hangupDirection"],
] as const;

type ComparedKey = (typeof COMPARED_FIELDS)[number][1];
export type ComparedValues = { [K in ComparedKey]: DetailValues[K] };

export type JsonScalar = string | number | null;
export type Discrepancies = Record<string, { receipt: JsonScalar; detail: JsonScalar }>;

const json = (v: string | number | Date | null): JsonScalar =>
  v instanceof Date ? v.toISOString() : v;

const same = (a: string | number | Date, b: string | number | Date): boolean =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;

/**
 * Fields where both sides have a value and the values differ, keyed by column name, with both
 * values (times as ISO-8601 UTC). A side without a value is not a disagreement: the detail
 * simply fills it, or the receipt keeps it.
 */
export function computeDiscrepancies(
  receipt: Partial<ComparedValues>,
  detail: ComparedValues,
): Discrepancies {
  const out: Discrepancies = {};
  for (const [column, key] of COMPARED_FIELDS) {
    const r = receipt[key] ?? null;
    const d = detail[key];
    if (r !== null && d !== null && !same(r, d)) {
      out[column] = { receipt: json(r), detail: json(d) };
    }
  }
  return out;
}

/**
 * Disagreements found earlier stay recorded: a re-reconcile after a late receipt only adds
 * (or updates) the fields that receipt disagrees on.
 */
export function mergeDiscrepancies(earlier: unknown, fresh: Discrepancies): Discrepancies {
  const out: Discrepancies = {};
  if (isObject(earlier)) {
    for (const [k, v] of Object.entries(earlier)) {
      if (isObject(v) && "receipt" in v && "detail" in v) {
        out[k] = v as Discrepancies[string];
      }
    }
  }
  return Object.assign(out, fresh);
}

/**
 * The status text to store with the detail's state: its own description when it has one, the
 * documented meaning when the state changed the code, else whatever the receipt said (null).
 */
export function statusMessageFor(values: DetailValues, currentCode: string | null): string | null {
  if (values.statusMsg !== null) {
    return values.statusMsg;
  }
  if (values.statusCode !== null && values.statusCode !== currentCode) {
    return CARRIER_STATUS_CODES[values.statusCode] ?? null;
  }
  return null;
}
