/**
 * Outcome events (README "Deliver outcomes to your systems"): their types and the payloads built
 * from our rows. Pure; the outbox writer is src/store/events/emit.ts.
 *
 * A payload has the Standard Webhooks shape `{ type, timestamp, data }`; every time in it is
 * ISO-8601 with the Beijing offset (+08:00), the zone Alibaba's own times are in.
 */
import { randomUUID } from "node:crypto";

import { ROBOT_OUT_ID_PREFIX as SAAS_PREFIX } from "./callDimensions.js";
import { BEIJING_OFFSET_MS } from "./time.js";
import { isAnswered, smartStatusMeaning, statusMeaning } from "./statusCodes.js";

export const EVENT_TYPES = [
  "call.completed",
  "call.reconciled",
  "call.not_found",
  "recording.stored",
  "recording.expired",
  "dialogue.turn",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Sent only to endpoints that name them in their event types (one per smart-call turn). */
export const OPT_IN_EVENT_TYPES: readonly EventType[] = ["dialogue.turn"];

/** An event about to be written to the outbox. */
export interface NewEvent {
  /** The receiver's idempotency key (`webhook-id`). */
  id: string;
  type: EventType;
  callId: string | null;
  outId: string | null;
  payload: EventPayload;
}

export interface EventPayload {
  type: EventType;
  /** When it happened (ISO-8601, +08:00). */
  timestamp: string;
  data: Record<string, unknown>;
}

export function newEventId(): string {
  return `evt_${randomUUID().replaceAll("-", "")}`;
}

/** Every event's envelope: a fresh id, the type twice (column and payload), the time sent. */
function envelope(
  type: EventType,
  ids: { callId: string | null; outId: string | null },
  data: Record<string, unknown>,
  now: Date,
): NewEvent {
  return {
    id: newEventId(),
    type,
    callId: ids.callId,
    outId: ids.outId,
    payload: { type, timestamp: isoBeijing(now) as string, data },
  };
}

/** ISO-8601 with the +08:00 offset, e.g. 2026-11-20T10:00:10+08:00 (null stays null). */
export function isoBeijing(d: Date | null | undefined): string | null {
  if (d === null || d === undefined || Number.isNaN(d.getTime())) {
    return null;
  }
  const b = new Date(d.getTime() + BEIJING_OFFSET_MS).toISOString();
  const ms = b.slice(19, 23) === ".000" ? "" : b.slice(19, 23);
  return `${b.slice(0, 19)}${ms}+08:00`;
}

/** Product names of the ProdIds QueryCallDetailByCallId answers for (docs/). */
const PRODUCTS: Record<string, string> = {
  "11000000300006": "voice_notification",
  "11010000138001": "verification_code",
  "11000000300005": "ivr",
  "11030000180001": "smart_call",
};

/** The columns of `calls` a payload is built from (src/store/events/callEvents.ts reads them). */
export interface CallOutcomeRow {
  call_id: string;
  direction: string;
  out_id: string | null;
  caller: string | null;
  callee: string | null;
  status_code: string | null;
  status_msg: string | null;
  smart_status_code: string | null;
  voice_type: string | null;
  originate_time: Date | null;
  ring_time: Date | null;
  start_time: Date | null;
  end_time: Date | null;
  duration_seconds: number | null;
  hangup_direction: string | null;
  dtmf: string | null;
  prod_id: string | null;
  reconcile_status: string;
  reconcile_skip_reason: string | null;
  reconciled_at: Date | null;
  discrepancies: unknown;
  report_received_at: Date | null;
  last_event_code: string | null;
  last_event_time: Date | null;
  updated_at: Date;
}

export interface RecordingLocation {
  record_file: string;
  /** Where our copy is (e.g. s3://bucket/key or a file path), once stored. */
  location: string | null;
}

/** The call as in `calls`, for a payload's `data.call`. */
export function callView(
  row: CallOutcomeRow,
  recordings: readonly RecordingLocation[] = [],
): Record<string, unknown> {
  const robotTask = row.out_id?.startsWith(SAAS_PREFIX) ? row.out_id.split("^")[1] : undefined;
  return {
    call_id: row.call_id,
    out_id: row.out_id,
    direction: row.direction,
    product: (row.prod_id && PRODUCTS[row.prod_id]) ?? (robotTask ? "smart_call" : null),
    prod_id: row.prod_id,
    robot_task: robotTask ?? null,
    caller: row.caller,
    callee: row.callee,
    status: {
      code: row.status_code,
      meaning: statusMeaning(row.status_code) ?? row.status_msg,
      message: row.status_msg,
      answered: isAnswered(row.status_code),
    },
    smart_status: row.smart_status_code
      ? { code: row.smart_status_code, meaning: smartStatusMeaning(row.smart_status_code) }
      : null,
    last_event: row.last_event_code
      ? { code: row.last_event_code, time: isoBeijing(row.last_event_time) }
      : null,
    voice_type: row.voice_type,
    originate_time: isoBeijing(row.originate_time),
    ring_time: isoBeijing(row.ring_time),
    start_time: isoBeijing(row.start_time),
    end_time: isoBeijing(row.end_time),
    duration_seconds: row.duration_seconds,
    hangup_direction: row.hangup_direction,
    dtmf: row.dtmf,
    report_received: row.report_received_at !== null,
    reconcile: {
      status: row.reconcile_status,
      skip_reason: row.reconcile_skip_reason,
      reconciled_at: isoBeijing(row.reconciled_at),
      discrepancies: row.discrepancies ?? null,
    },
    recordings,
    updated_at: isoBeijing(row.updated_at),
  };
}

/** A call-level event (call.completed, call.reconciled, call.not_found). */
export function callEvent(
  type: "call.completed" | "call.reconciled" | "call.not_found",
  row: CallOutcomeRow,
  recordings: readonly RecordingLocation[],
  extra: Record<string, unknown> = {},
  now: Date = new Date(),
): NewEvent {
  return envelope(
    type,
    { callId: row.call_id, outId: row.out_id },
    { ...extra, call: callView(row, recordings) },
    now,
  );
}

export interface RecordingFacts {
  callId: string;
  outId: string | null;
  recordFile: string;
  /** recording.stored: where our copy is (storage key or URL), its size and digest. */
  location?: string | null;
  bytes?: number | null;
  sha256?: string | null;
  contentType?: string | null;
  /** recording.expired: why it could not be fetched. */
  reason?: string | null;
  startTime?: Date | null;
  endTime?: Date | null;
  durationSeconds?: number | null;
}

/**
 * recording.stored / recording.expired, for the recording fetcher to pass to emitEvents in the
 * transaction that records the outcome in `recordings`.
 */
export function recordingEvent(
  type: "recording.stored" | "recording.expired",
  r: RecordingFacts,
  now: Date = new Date(),
): NewEvent {
  return envelope(
    type,
    r,
    {
      recording: {
        call_id: r.callId,
        out_id: r.outId,
        record_file: r.recordFile,
        location: r.location ?? null,
        bytes: r.bytes ?? null,
        sha256: r.sha256 ?? null,
        content_type: r.contentType ?? null,
        reason: r.reason ?? null,
        start_time: isoBeijing(r.startTime),
        end_time: isoBeijing(r.endTime),
        duration_seconds: r.durationSeconds ?? null,
      },
    },
    now,
  );
}

export interface DialogueTurnFacts {
  callId: string;
  outId: string | null;
  turnTime: Date;
  role: string | null;
  contentType: string;
  words: string | null;
  dtmf: string | null;
  answeredAction: string | null;
  answeredBy: string | null;
}

/** dialogue.turn: one recognised utterance of a smart call and what was answered. */
export function dialogueTurnEvent(t: DialogueTurnFacts, now: Date = new Date()): NewEvent {
  return envelope(
    "dialogue.turn",
    t,
    {
      turn: {
        call_id: t.callId,
        out_id: t.outId,
        time: isoBeijing(t.turnTime),
        role: t.role,
        content_type: t.contentType,
        words: t.words,
        dtmf: t.dtmf,
        answered_action: t.answeredAction,
        answered_by: t.answeredBy,
      },
    },
    now,
  );
}
