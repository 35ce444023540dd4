/**
 * What a normalised receipt contributes to each table. Field names match the camelCase columns
 * of src/store/schema.ts (`calls`, `call_events`, `recordings`).
 */

export type Direction = "outbound" | "inbound";

/**
 * Columns of one `calls` row a receipt can fill; null = "this receipt says nothing about it".
 * `source` ranks receipts for precedence (the CDR wins); unknown types use "event", the lowest
 * rank, and only ever carry callId/outId/direction. `direction` is "outbound" whenever the
 * receipt is keyed by call_id: the store only ever upgrades a row to "inbound", never back.
 */
export interface CallPatch {
  callId: string;
  direction: Direction;
  source: "report" | "event" | "record";
  /** The receipt's own time (see NormalizedReceipt.eventTime), for ordering patches. */
  eventTime: Date | null;
  outId: string | null;
  caller: string | null;
  callee: string | null;
  statusCode: string | null;
  statusMsg: string | null;
  smartStatusCode: string | null;
  earlyMediaCode: string | null;
  voiceType: string | null;
  originateTime: Date | null;
  ringTime: Date | null;
  startTime: Date | null;
  endTime: Date | null;
  durationSeconds: number | null;
  hangupDirection: string | null;
  dtmf: string | null;
  /** VoiceCallReport only: status_time / status_code, so an older event never rolls state back. */
  lastEventTime: Date | null;
  lastEventCode: string | null;
}

/** One `call_events` row (VoiceCallReport). */
export interface CallEventRow {
  callId: string;
  statusCode: string;
  statusTime: Date | null;
  dtmf: string | null;
  outId: string | null;
  smartStatusCode: string | null;
  body: Record<string, unknown>;
}

/** One `recordings` row (VoiceRecordReport). `recordFile` is the full signed URL, as received. */
export interface RecordingRow {
  callId: string;
  recordFile: string;
  outId: string | null;
  startTime: Date | null;
  endTime: Date | null;
  durationSeconds: number | null;
  recordBeginTime: Date | null;
  statusCode: string | null;
  smartStatusCode: string | null;
  body: Record<string, unknown>;
}

export interface NormalizedReceipt {
  messageType: string;
  dedupKey: string;
  callId: string | null;
  direction: Direction;
  outId: string | null;
  statusCode: string | null;
  eventTime: Date | null;
  /** The receipt object exactly as received: the same reference, never modified. Do not mutate. */
  body: Record<string, unknown>;
  call: CallPatch | null;
  event: CallEventRow | null;
  recording: RecordingRow | null;
}

export type NormalizeResult =
  { ok: true; receipt: NormalizedReceipt } | { ok: false; reason: string };

/** A patch that says nothing but the call's identity; callers fill what their receipt has. */
export function emptyPatch(
  callId: string,
  direction: Direction,
  source: CallPatch["source"],
): CallPatch {
  return {
    callId,
    direction,
    source,
    eventTime: null,
    outId: null,
    caller: null,
    callee: null,
    statusCode: null,
    statusMsg: null,
    smartStatusCode: null,
    earlyMediaCode: null,
    voiceType: null,
    originateTime: null,
    ringTime: null,
    startTime: null,
    endTime: null,
    durationSeconds: null,
    hangupDirection: null,
    dtmf: null,
    lastEventTime: null,
    lastEventCode: null,
  };
}
