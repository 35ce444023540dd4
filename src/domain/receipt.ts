/**
 * normalizeReceipt: one raw receipt (as parsed from JSON) → the rows it contributes to
 * `receipts`, `calls`, `call_events` and `recordings`, or a human-readable reason to quarantine it.
 * Pure: no I/O, no clock; the same input always gives the same output (and the same dedup key).
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
  findShapeProblem,
  isPlainObject,
  ownValue,
  type JsonObject,
} from "./json.js";
import {
  describeSchemaError,
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
import { parseBeijingTime } from "./time.js";
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

/** Thrown inside this module only, to stop at the first bad field; never escapes. */
class FieldProblem extends Error {}

function take<T>(result: FieldResult<T>): T {
  if (!result.ok) {
    throw new FieldProblem(result.reason);
  }
  return result.value;
}

/** Typed, validated reads of one receipt's fields (own properties only). */
function reader(body: JsonObject) {
  return {
    text: (f: string) => take(coerceText(ownValue(body, f), f)),
    time: (f: string) => take(coerceTime(ownValue(body, f), f)),
    duration: (f: string) => take(coerceDuration(ownValue(body, f), f)),
    require(f: string): string {
      const v = take(coerceText(ownValue(body, f), f));
      if (v === null) {
        throw new FieldProblem(`field "${f}" is required`);
      }
      return v;
    },
    /** Validates every listed field so a bad one is reported even when we do not store it. */
    checkAll(times: readonly string[], durations: readonly string[] = []) {
      times.forEach((f) => take(coerceTime(ownValue(body, f), f)));
      durations.forEach((f) => take(coerceDuration(ownValue(body, f), f)));
    },
  };
}
type Reader = ReturnType<typeof reader>;

function checkSchema(schema: z.ZodType, body: JsonObject): void {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new FieldProblem(describeSchemaError(parsed.error));
  }
}

type Parts = Omit<NormalizedReceipt, "messageType" | "body">;

function voiceReport(body: JsonObject, r: Reader): Parts {
  checkSchema(VoiceReportSchema, body);
  r.checkAll(VOICE_REPORT_TIME_FIELDS, VOICE_REPORT_DURATION_FIELDS);
  const callId = r.require("call_id");
  const startTime = r.time("start_time");
  const endTime = r.time("end_time");
  const eventTime = endTime ?? startTime;
  const call: CallPatch = {
    ...emptyPatch(callId, "outbound", "report"),
    eventTime,
    outId: r.text("out_id"),
    caller: r.text("caller"),
    callee: r.text("callee"),
    statusCode: r.text("status_code"),
    statusMsg: r.text("status_msg"),
    smartStatusCode: r.text("smart_status_code"),
    earlyMediaCode: r.text("early_media_code"),
    voiceType: r.text("voice_type"),
    originateTime: r.time("originate_time"),
    ringTime: r.time("ring_time"),
    startTime,
    endTime,
    durationSeconds: r.duration("duration"),
    hangupDirection: normalizeHangupDirection(r.text("hangup_direction")),
    dtmf: r.text("dtmf"),
  };
  const { outId, statusCode, direction } = call;
  const dedupKey = voiceReportKey(callId);
  return {
    dedupKey,
    callId,
    direction,
    outId,
    statusCode,
    eventTime,
    call,
    event: null,
    recording: null,
  };
}

function voiceCallReport(body: JsonObject, r: Reader): Parts {
  // call_id wins when both ids are present; only a receipt without call_id is inbound.
  const outboundId = r.text("call_id");
  const direction: Direction = outboundId === null ? "inbound" : "outbound";
  if (outboundId === null && r.text("biz_id") === null) {
    throw new FieldProblem('field "call_id" is required (or "biz_id" for an inbound call)');
  }
  checkSchema(
    direction === "outbound" ? VoiceCallReportOutboundSchema : VoiceCallReportInboundSchema,
    body,
  );
  r.checkAll(VOICE_CALL_REPORT_TIME_FIELDS);
  const callId = outboundId ?? r.require("biz_id");
  const statusCode = r.require("status_code");
  const statusTime = r.time("status_time");
  const outId = r.text("out_id");
  const smartStatusCode = r.text("smart_status_code");
  const dtmf = r.text("dtmf");
  const event: CallEventRow = {
    callId,
    statusCode,
    statusTime,
    dtmf,
    outId,
    smartStatusCode,
    body,
  };
  const call: CallPatch = {
    ...emptyPatch(callId, direction, "event"),
    eventTime: statusTime,
    outId,
    smartStatusCode,
    dtmf: statusCode === DTMF_EVENT_CODE ? dtmf : null,
    lastEventTime: statusTime,
    lastEventCode: statusCode,
  };
  const dedupKey = callEventKey({ callId, statusCode, statusTime, dtmf });
  return {
    dedupKey,
    callId,
    direction,
    outId,
    statusCode,
    eventTime: statusTime,
    call,
    event,
    recording: null,
  };
}

function voiceRecordReport(body: JsonObject, r: Reader): Parts {
  checkSchema(VoiceRecordReportSchema, body);
  r.checkAll(VOICE_RECORD_REPORT_TIME_FIELDS, ["duration"]);
  const callId = r.require("call_id");
  const recordFile = r.require("record_file");
  const startTime = r.time("start_time");
  const endTime = r.time("end_time");
  const eventTime = endTime ?? startTime;
  const outId = r.text("out_id");
  const statusCode = r.text("status_code");
  const recording: RecordingRow = {
    callId,
    recordFile,
    outId,
    startTime,
    endTime,
    durationSeconds: r.duration("duration"),
    recordBeginTime: r.time("record_begin_time"),
    statusCode,
    smartStatusCode: r.text("smart_status_code"),
    body,
  };
  // Only the identity goes to `calls`: the CDR columns come from VoiceReport (and reconcile);
  // recording receipts are known to disagree with it (200005 beside ANSWERED, reference §6.3).
  const call: CallPatch = { ...emptyPatch(callId, "outbound", "record"), eventTime, outId };
  const dedupKey = recordingKey(callId, recordFile);
  return {
    dedupKey,
    callId,
    direction: "outbound",
    outId,
    statusCode,
    eventTime,
    call,
    event: null,
    recording,
  };
}

/** Best effort only: an unknown type is never rejected for a field we do not understand. */
function optionalTime(body: JsonObject, fields: readonly string[]): Date | null {
  for (const f of fields) {
    const v = ownValue(body, f);
    if (typeof v === "string") {
      const parsed = parseBeijingTime(v);
      if (parsed.ok) {
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
 * time or duration, or contains a prototype-polluting key.
 *
 * Prototype guard: receipts with a `__proto__`, `constructor` or `prototype` key at any depth
 * are REJECTED (quarantined), not stripped. Stripping would break "body exactly as received",
 * and no genuine Alibaba receipt has such a key, so one that does is hostile or corrupt.
 */
export function normalizeReceipt(messageType: string, raw: unknown): NormalizeResult {
  if (!isPlainObject(raw)) {
    return {
      ok: false,
      reason: `${messageType}: receipt must be a JSON object, got ${describeJsonType(raw)}`,
    };
  }
  const problem = findShapeProblem(raw);
  if (problem?.kind === "forbidden-key") {
    const reason = `field "${problem.path}" is not allowed (prototype pollution guard)`;
    return { ok: false, reason: `${messageType}: ${reason}` };
  }
  if (problem?.kind === "too-deep") {
    return { ok: false, reason: `${messageType}: field "${problem.path}" is nested too deeply` };
  }
  const r = reader(raw);
  try {
    const parts =
      messageType === "VoiceReport"
        ? voiceReport(raw, r)
        : messageType === "VoiceCallReport"
          ? voiceCallReport(raw, r)
          : messageType === "VoiceRecordReport"
            ? voiceRecordReport(raw, r)
            : unknownType(messageType, raw);
    return { ok: true, receipt: { messageType, body: raw, ...parts } };
  } catch (err) {
    if (err instanceof FieldProblem) {
      return { ok: false, reason: `${messageType}: ${err.message}` };
    }
    throw err;
  }
}
