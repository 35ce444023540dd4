/**
 * Wire shapes of the receipt types (docs/alibaba.md §1.2–1.4), as zod schemas. They are loose
 * (`z.looseObject`): unknown fields pass through untouched, because Alibaba adds fields per product
 * and over time and docs/alibaba.md §1.1 says to keep them. Every field is `string | number |
 * null`: docs say String, payloads send numbers (§1.2). Formats (times, integers) are checked by
 * the coercers in fields.ts, which can name the problem more precisely than a schema.
 *
 * Lengths: values PostgreSQL indexes (keys, out_id, status_code, dtmf, record_file) are bounded
 * here, so a value a B-tree index would refuse ("index row size exceeds maximum", a whole batch
 * failing on every retry) is refused on its own before it is acknowledged. README "Limits".
 */
import { z } from "zod";

/** UTF-8 bytes of an indexed identifier: call_id, biz_id, out_id, status_code, dtmf. */
export const MAX_KEY_BYTES = 256;
/**
 * UTF-8 bytes of a record_file URL (signed OSS URLs are ~300 bytes). With call_id it must fit a
 * B-tree entry of recordings_natural_key (≈ 2,700 bytes at most).
 */
export const MAX_URL_BYTES = 2048;

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");
const atMost = (max: number, base = z.string()) =>
  base.refine((s) => utf8Bytes(s) <= max, {
    error: (iss) => `is longer than ${max} bytes (${utf8Bytes(String(iss.input))})`,
  });

const requiredOr = (problem: string) => (iss: { input: unknown }) =>
  iss.input === undefined ? "is required" : problem;

/** An optional scalar field. */
const scalar = z
  .union([z.string(), z.number(), z.null()], {
    error: requiredOr("must be a string, a number or null"),
  })
  .optional();

/** An optional scalar field that is indexed: as `scalar`, its text at most `max` bytes. */
const boundedScalar = (max: number) =>
  z
    .union([atMost(max), z.number(), z.null()], {
      error: requiredOr("must be a string, a number or null"),
    })
    .optional();
const shortScalar = boundedScalar(MAX_KEY_BYTES);

/** A required key: present, non-blank, at most `max` bytes. */
const keyOf = (max: number) =>
  z.union(
    [atMost(max, z.string().regex(/\S/, { error: "is required (it is empty)" })), z.number()],
    {
      error: requiredOr("must be a non-empty string or a number"),
    },
  );
const key = keyOf(MAX_KEY_BYTES);

/** A key that must be absent (the inbound VoiceCallReport has biz_id instead of call_id). */
const noKey = z
  .union([z.null(), z.string().regex(/^\s*$/)], { error: "must be absent or empty" })
  .optional();

const fields = <const N extends readonly string[]>(names: N) =>
  Object.fromEntries(names.map((n) => [n, scalar])) as { [K in N[number]]: typeof scalar };

/** Time fields (`yyyy-MM-dd HH:mm:ss`, Asia/Shanghai) per type: validated when present. */
export const VOICE_REPORT_TIME_FIELDS = [
  "start_time",
  "end_time",
  "originate_time",
  "ring_time",
  "b_ring_time",
  "b_start_time",
  "b_end_time",
  "b_originate_time",
  "a_start_time",
  "a_end_time",
  "a_originate_time",
  "a_ring_time",
] as const;
export const VOICE_REPORT_DURATION_FIELDS = ["duration", "a_duration", "b_duration"] as const;
export const VOICE_CALL_REPORT_TIME_FIELDS = ["status_time"] as const;
export const VOICE_RECORD_REPORT_TIME_FIELDS = [
  "start_time",
  "end_time",
  "record_begin_time",
] as const;

const VOICE_REPORT_TEXT_FIELDS = [
  "status_code",
  "smart_status_code",
  "status_msg",
  "out_id",
  "caller",
  "callee",
  "early_media_code",
  "hangup_direction",
  "toll_type",
  "voice_type",
  "extend",
  "dtmf",
  "parallel_leg_hangup_cause",
  "dialog_id",
  "caller_show_num",
  "callee_show_num",
] as const;

/** 呼叫记录消息: one CDR per call, after it ends. */
export const VoiceReportSchema = z.looseObject({
  call_id: key,
  ...fields(VOICE_REPORT_TEXT_FIELDS),
  out_id: shortScalar,
  status_code: shortScalar,
  dtmf: shortScalar,
  ...fields(VOICE_REPORT_TIME_FIELDS),
  ...fields(VOICE_REPORT_DURATION_FIELDS),
});

const voiceCallReportCommon = {
  status_code: key,
  smart_status_code: scalar,
  status_time: scalar,
  out_id: shortScalar,
  dtmf: shortScalar,
  extend: scalar,
};

/** 呼叫中间状态消息, outbound: keyed by call_id. */
export const VoiceCallReportOutboundSchema = z.looseObject({
  call_id: key,
  biz_id: shortScalar,
  ...voiceCallReportCommon,
});

/** 呼叫中间状态消息, inbound (呼入): biz_id replaces call_id (docs/alibaba.md §1.3). */
export const VoiceCallReportInboundSchema = z.looseObject({
  call_id: noKey,
  biz_id: key,
  ...voiceCallReportCommon,
});

export const VoiceCallReportSchema = z.union([
  VoiceCallReportOutboundSchema,
  VoiceCallReportInboundSchema,
]);

/** 录音记录消息: the recording's signed OSS URL (valid 7 days). */
export const VoiceRecordReportSchema = z.looseObject({
  call_id: key,
  record_file: keyOf(MAX_URL_BYTES),
  duration: scalar,
  status_code: shortScalar,
  smart_status_code: scalar,
  out_id: shortScalar,
  ...fields(VOICE_RECORD_REPORT_TIME_FIELDS),
});

export type VoiceReport = z.infer<typeof VoiceReportSchema>;
export type VoiceCallReportOutbound = z.infer<typeof VoiceCallReportOutboundSchema>;
export type VoiceCallReportInbound = z.infer<typeof VoiceCallReportInboundSchema>;
export type VoiceCallReport = z.infer<typeof VoiceCallReportSchema>;
export type VoiceRecordReport = z.infer<typeof VoiceRecordReportSchema>;

export const KNOWN_MESSAGE_TYPES = ["VoiceReport", "VoiceCallReport", "VoiceRecordReport"] as const;
export type KnownMessageType = (typeof KNOWN_MESSAGE_TYPES)[number];

export function isKnownMessageType(type: string): type is KnownMessageType {
  return (KNOWN_MESSAGE_TYPES as readonly string[]).includes(type);
}

/** First schema problem as `field "x" <problem>`, the form every rejection reason uses. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) {
    return "receipt does not match its schema";
  }
  const path = issue.path.map(String).join(".");
  return path ? `field "${path}" ${issue.message}` : issue.message;
}
