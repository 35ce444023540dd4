/**
 * normalizeReceipt: one raw receipt (as parsed from JSON) → the rows it contributes to
 * `receipts`, `calls`, `call_events` and `recordings`, or a human-readable reason to quarantine it.
 * Pure: no I/O, no clock; the same input always gives the same output (and the same dedup key).
 *
 * Over 300 lines: one normaliser per receipt type over shared field helpers, read together to
 * compare what each type contributes to which table.
 */
import type { z } from "zod";

import { callEventKey, recordingKey, unknownReceiptKey, voiceReportKey } from "./dedup.js";
import {
  coerceDuration,
  coerceText,
  coerceTime,
  normalizeHangupDirection,
  type FieldResult,
} from "./fields.js";
import {
  describeJsonType,
  describeShapeProblem,
  findShapeProblem,
  isPlainObject,
  ownValue,
  UnparsableItem,
  type JsonObject,
} from "./json.js";
import {
  describeSchemaError,
  MAX_KEY_BYTES,
  VOICE_CALL_REPORT_TIME_FIELDS,
  VOICE_RECORD_REPORT_TIME_FIELDS,
  VOICE_REPORT_DURATION_FIELDS,
  VOICE_REPORT_TIME_FIELDS,
  VoiceCallReportInboundSchema,
  VoiceCallReportOutboundSchema,
  VoiceRecordReportSchema,
  VoiceReportSchema,
} from "./schemas.js";
import { DTMF_EVENT_CODE } from "./statusCodes.js";
import { parseBeijingTime, receiptYearProblem } from "./time.js";
import {
  emptyPatch,
  type CallEventRow,
  type CallPatch,
  type Direction,
  type NormalizedReceipt,
  type NormalizeResult,
  type RecordingRow,
} from "./types.js";

export type {
  CallEventRow,
  CallPatch,
  Direction,
  NormalizedReceipt,
  NormalizeResult,
  RecordingRow,
} from "./types.js";

export interface NormalizeOptions {
  /**
   * The receipt is one of `receipts`, validated when it arrived (the persist worker re-reading
   * it): the rows are read from it as usual, and a field they take that no longer reads is
   * still a reason, but the checks that only decide whether to accept it — the shape walk
   * (depth, keys, unstorable strings; its jsonb copy has none of them), the type's schema and
   * the fields no row takes — are not run twice, and no dedup key is computed (it is in
   * receipts.dedup_key): ~80 % of normalising (docs/benchmarks.md, "Where a persisted
   * receipt's microseconds go").
   */
  stored?: boolean;
}

/** The dedupKey of a receipt normalised with `stored`: not computed. */
const STORED = "";

/** Thrown inside this module only, to stop at the first bad field; never escapes. */
class FieldProblem extends Error {}

function take<T>(result: FieldResult<T>): T {
  if (!result.ok) {
    throw new FieldProblem(result.reason);
  }
  return result.value;
}

/*
 * Typed, validated reads of one receipt's fields (own properties only). Plain functions over
 * the body rather than a per-receipt object of closures: this runs for every receipt on the
 * push path and again in the persist worker.
 */
function text(body: JsonObject, f: string): string | null {
  return take(coerceText(ownValue(body, f), f));
}
function time(body: JsonObject, f: string): Date | null {
  return take(coerceTime(ownValue(body, f), f));
}
function duration(body: JsonObject, f: string): number | null {
  return take(coerceDuration(ownValue(body, f), f));
}
function requiredText(body: JsonObject, f: string): string {
  const v = take(coerceText(ownValue(body, f), f));
  if (v === null) {
    throw new FieldProblem(`field "${f}" is required`);
  }
  return v;
}
/** Validates every listed field so a bad one is reported even when we do not store it. */
function checkAll(
  body: JsonObject,
  times: readonly string[],
  durations: readonly string[] = [],
): void {
  for (const f of times) {
    const v = ownValue(body, f);
    // Absent fields (the most common case) need no result object.
    if (v !== undefined && v !== null) {
      take(coerceTime(v, f));
    }
  }
  for (const f of durations) {
    const v = ownValue(body, f);
    if (v !== undefined && v !== null) {
      take(coerceDuration(v, f));
    }
  }
}

/** The schema check: zod finds and words the first problem (`field "x" ...`). */
function checkSchema(schema: z.ZodType, body: JsonObject): void {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new FieldProblem(describeSchemaError(parsed.error));
  }
}

type Parts = Omit<NormalizedReceipt, "messageType" | "body">;

/** A known type's parts: its identity (id, direction, out_id, time) is its call patch's. */
function partsOf(
  dedupKey: string,
  call: CallPatch,
  statusCode: string | null,
  rows: Pick<Parts, "event" | "recording"> = { event: null, recording: null },
): Parts {
  const { callId, direction, outId, eventTime } = call;
  return { dedupKey, callId, direction, outId, statusCode, eventTime, call, ...rows };
}

/** What a report on a whole call is checked against: its schema, its time and duration fields. */
interface CallReportChecks {
  schema: z.ZodType;
  times: readonly string[];
  durations: readonly string[];
}

const VOICE_REPORT_CHECKS: CallReportChecks = {
  schema: VoiceReportSchema,
  times: VOICE_REPORT_TIME_FIELDS,
  durations: VOICE_REPORT_DURATION_FIELDS,
};
const VOICE_RECORD_REPORT_CHECKS: CallReportChecks = {
  schema: VoiceRecordReportSchema,
  times: VOICE_RECORD_REPORT_TIME_FIELDS,
  durations: ["duration"],
};

/**
 * A report on a whole call (VoiceReport, VoiceRecordReport), checked: its call_id and span (its
 * time is its end, else its start).
 */
function callSpan(body: JsonObject, checks: CallReportChecks, stored: boolean) {
  if (!stored) {
    checkSchema(checks.schema, body);
    checkAll(body, checks.times, checks.durations);
  }
  const callId = requiredText(body, "call_id");
  const startTime = time(body, "start_time");
  const endTime = time(body, "end_time");
  return { callId, startTime, endTime, eventTime: endTime ?? startTime };
}

function voiceReport(body: JsonObject, stored: boolean): Parts {
  const { callId, startTime, endTime, eventTime } = callSpan(body, VOICE_REPORT_CHECKS, stored);
  const call: CallPatch = {
    ...emptyPatch(callId, "outbound", "report"),
    eventTime,
    outId: text(body, "out_id"),
    caller: text(body, "caller"),
    callee: text(body, "callee"),
    statusCode: text(body, "status_code"),
    statusMsg: text(body, "status_msg"),
    smartStatusCode: text(body, "smart_status_code"),
    earlyMediaCode: text(body, "early_media_code"),
    voiceType: text(body, "voice_type"),
    originateTime: time(body, "originate_time"),
    ringTime: time(body, "ring_time"),
    startTime,
    endTime,
    durationSeconds: duration(body, "duration"),
    hangupDirection: normalizeHangupDirection(text(body, "hangup_direction")),
    dtmf: text(body, "dtmf"),
  };
  return partsOf(stored ? STORED : voiceReportKey(callId), call, call.statusCode);
}

function voiceCallReport(body: JsonObject, stored: boolean): Parts {
  // call_id wins when both ids are present; only a receipt without call_id is inbound.
  const outboundId = text(body, "call_id");
  const direction: Direction = outboundId === null ? "inbound" : "outbound";
  if (outboundId === null && text(body, "biz_id") === null) {
    throw new FieldProblem('field "call_id" is required (or "biz_id" for an inbound call)');
  }
  if (!stored) {
    checkSchema(
      direction === "outbound" ? VoiceCallReportOutboundSchema : VoiceCallReportInboundSchema,
      body,
    );
    checkAll(body, VOICE_CALL_REPORT_TIME_FIELDS);
  }
  const callId = outboundId ?? requiredText(body, "biz_id");
  const event: CallEventRow = {
    callId,
    statusCode: requiredText(body, "status_code"),
    statusTime: time(body, "status_time"),
    dtmf: text(body, "dtmf"),
    outId: text(body, "out_id"),
    smartStatusCode: text(body, "smart_status_code"),
    body,
  };
  const { statusCode, statusTime, dtmf } = event;
  const call: CallPatch = {
    ...emptyPatch(callId, direction, "event"),
    eventTime: statusTime,
    outId: event.outId,
    smartStatusCode: event.smartStatusCode,
    dtmf: statusCode === DTMF_EVENT_CODE ? dtmf : null,
    lastEventTime: statusTime,
    lastEventCode: statusCode,
  };
  const dedupKey = stored ? STORED : callEventKey({ callId, statusCode, statusTime, dtmf });
  return partsOf(dedupKey, call, statusCode, { event, recording: null });
}

function voiceRecordReport(body: JsonObject, stored: boolean): Parts {
  const { callId, startTime, endTime, eventTime } = callSpan(
    body,
    VOICE_RECORD_REPORT_CHECKS,
    stored,
  );
  const recordFile = requiredText(body, "record_file");
  const outId = text(body, "out_id");
  const statusCode = text(body, "status_code");
  const recording: RecordingRow = {
    callId,
    recordFile,
    outId,
    startTime,
    endTime,
    durationSeconds: duration(body, "duration"),
    recordBeginTime: time(body, "record_begin_time"),
    statusCode,
    smartStatusCode: text(body, "smart_status_code"),
    body,
  };
  // Only the identity goes to `calls`: the CDR columns come from VoiceReport (and reconcile);
  // recording receipts can disagree with it (200005 beside ANSWERED, docs/alibaba.md §1.4).
  const call: CallPatch = { ...emptyPatch(callId, "outbound", "record"), eventTime, outId };
  const dedupKey = stored ? STORED : recordingKey(callId, recordFile);
  return partsOf(dedupKey, call, statusCode, { event: null, recording });
}

/** Best effort only: an unknown type is never rejected for a field we do not understand. */
function optionalTime(body: JsonObject, fields: readonly string[]): Date | null {
  for (const f of fields) {
    const v = ownValue(body, f);
    if (typeof v === "string") {
      const parsed = parseBeijingTime(v);
      if (parsed.ok && receiptYearProblem(parsed.value) === null) {
        return parsed.value;
      }
    }
  }
  return null;
}

function unknownType(messageType: string, body: JsonObject): Parts {
  const text = (f: string) => {
    const c = coerceText(ownValue(body, f), f);
    return c.ok ? c.value : null;
  };
  // Identifiers still go to indexed columns (receipts.call_id, calls): bounded like known types.
  for (const f of ["call_id", "biz_id", "out_id", "status_code"]) {
    const v = text(f);
    if (v !== null && Buffer.byteLength(v, "utf8") > MAX_KEY_BYTES) {
      throw new FieldProblem(`field "${f}" is longer than ${MAX_KEY_BYTES} bytes`);
    }
  }
  const outboundId = text("call_id");
  const callId = outboundId ?? text("biz_id");
  const direction: Direction = outboundId === null && callId !== null ? "inbound" : "outbound";
  const outId = text("out_id");
  const call = callId === null ? null : { ...emptyPatch(callId, direction, "event"), outId };
  return {
    dedupKey: unknownReceiptKey(messageType, body),
    callId,
    direction,
    outId,
    statusCode: text("status_code"),
    eventTime: optionalTime(body, ["status_time", "end_time", "start_time", "begin_time"]),
    call,
    event: null,
    recording: null,
  };
}

/**
 * Normalises one receipt of `messageType`. Not ok (with a reason naming the field) when the
 * receipt is not a plain JSON object, lacks its type's key fields, has a present but malformed
 * or out-of-range time or duration, an identifier longer than its limit (schemas.ts), a string
 * PostgreSQL cannot store (NUL, lone surrogate), a number that cannot be exact, nesting deeper
 * than MAX_JSON_DEPTH, or a prototype-polluting key (json.ts).
 *
 * Prototype guard: receipts with a `__proto__`, `constructor` or `prototype` key at any depth
 * are REJECTED (quarantined), not stripped. Stripping would break "body exactly as received",
 * and no genuine Alibaba receipt has such a key, so one that does is hostile or corrupt.
 */
export function normalizeReceipt(
  messageType: string,
  raw: unknown,
  options: NormalizeOptions = {},
): NormalizeResult {
  const stored = options.stored === true;
  if (raw instanceof UnparsableItem) {
    return { ok: false, reason: `${messageType}: ${raw.reason}` };
  }
  if (!isPlainObject(raw)) {
    return {
      ok: false,
      reason: `${messageType}: receipt must be a JSON object, got ${describeJsonType(raw)}`,
    };
  }
  const problem = stored ? null : findShapeProblem(raw);
  if (problem !== null) {
    return { ok: false, reason: `${messageType}: ${describeShapeProblem(problem)}` };
  }
  try {
    const parts =
      messageType === "VoiceReport"
        ? voiceReport(raw, stored)
        : messageType === "VoiceCallReport"
          ? voiceCallReport(raw, stored)
          : messageType === "VoiceRecordReport"
            ? voiceRecordReport(raw, stored)
            : unknownType(messageType, raw);
    return { ok: true, receipt: { messageType, body: raw, ...parts } };
  } catch (err) {
    if (err instanceof FieldProblem) {
      return { ok: false, reason: `${messageType}: ${err.message}` };
    }
    throw err;
  }
}
