/**
 * Set-based writes of normalised receipts into calls, call_events and recordings. Each function
 * is one statement over UNNEST arrays; rows are sorted by key so that concurrent transactions
 * lock rows in the same order and cannot deadlock each other.
 */
import type pg from "pg";

import type { CallEventRow, RecordingRow } from "../domain/receipt.js";

/** One merged row per call, produced by mergeCallPatches (pipeline/persist.ts). */
export interface CallRow {
  callId: string;
  direction: "outbound" | "inbound";
  /** A VoiceReport is in this batch: its values override earlier receipt values. */
  hasReport: boolean;
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
  lastEventTime: Date | null;
  lastEventCode: string | null;
}

const TEXT_COLUMNS = [
  ["out_id", "outId"],
  ["caller", "caller"],
  ["callee", "callee"],
  ["status_code", "statusCode"],
  ["status_msg", "statusMsg"],
  ["smart_status_code", "smartStatusCode"],
  ["early_media_code", "earlyMediaCode"],
  ["voice_type", "voiceType"],
  ["hangup_direction", "hangupDirection"],
  ["dtmf", "dtmf"],
] as const;
const TIME_COLUMNS = [
  ["originate_time", "originateTime"],
  ["ring_time", "ringTime"],
  ["start_time", "startTime"],
  ["end_time", "endTime"],
] as const;

const FIELD_COLUMNS = [
  ...TEXT_COLUMNS,
  ...TIME_COLUMNS,
  ["duration_seconds", "durationSeconds"],
] as const;

/**
 * Precedence, so that the final row does not depend on arrival order:
 * - a VoiceReport (the CDR) overrides values from events and recordings, unless the call was
 *   already reconciled (QueryCallDetailByCallId is authoritative);
 * - anything else only fills columns that are still NULL;
 * - last_event_* move forward in time only (ties broken by code), never back.
 */
const UPSERT_CALLS = `
insert into calls (call_id, direction, ${FIELD_COLUMNS.map(([c]) => c).join(", ")},
                   report_received_at, last_event_time, last_event_code, updated_at)
select u.call_id, u.direction, ${FIELD_COLUMNS.map(([c]) => `u.${c}`).join(", ")},
       case when u.has_report then now() end, u.last_event_time, u.last_event_code, now()
  from unnest($1::text[], $2::text[], $3::boolean[],
              ${TEXT_COLUMNS.map((_, i) => `$${i + 4}::text[]`).join(", ")},
              ${TIME_COLUMNS.map((_, i) => `$${i + 4 + TEXT_COLUMNS.length}::timestamptz[]`).join(", ")},
              $${4 + TEXT_COLUMNS.length + TIME_COLUMNS.length}::int[],
              $${5 + TEXT_COLUMNS.length + TIME_COLUMNS.length}::timestamptz[],
              $${6 + TEXT_COLUMNS.length + TIME_COLUMNS.length}::text[])
    as u(call_id, direction, has_report, ${TEXT_COLUMNS.map(([c]) => c).join(", ")},
         ${TIME_COLUMNS.map(([c]) => c).join(", ")}, duration_seconds, last_event_time, last_event_code)
on conflict (call_id) do update set
  direction = case when excluded.direction = 'inbound' then 'inbound' else calls.direction end,
  ${FIELD_COLUMNS.map(
    ([
      c,
    ]) => `${c} = case when excluded.report_received_at is not null and calls.reconcile_status <> 'reconciled'
                 then coalesce(excluded.${c}, calls.${c}) else coalesce(calls.${c}, excluded.${c}) end`,
  ).join(",\n  ")},
  report_received_at = coalesce(calls.report_received_at, excluded.report_received_at),
  last_event_time = case when ${newerEvent()} then excluded.last_event_time else calls.last_event_time end,
  last_event_code = case when ${newerEvent()} then excluded.last_event_code else calls.last_event_code end,
  updated_at = now()`;

function newerEvent(): string {
  return `excluded.last_event_time is not null and (calls.last_event_time is null
            or excluded.last_event_time > calls.last_event_time
            or (excluded.last_event_time = calls.last_event_time and excluded.last_event_code > calls.last_event_code))`;
}

export async function upsertCalls(client: pg.PoolClient, rows: CallRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  rows.sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
  await client.query({
    name: "upsert-calls",
    text: UPSERT_CALLS,
    values: [
      rows.map((r) => r.callId),
      rows.map((r) => r.direction),
      rows.map((r) => r.hasReport),
      ...TEXT_COLUMNS.map(([, k]) => rows.map((r) => r[k])),
      ...TIME_COLUMNS.map(([, k]) => rows.map((r) => r[k])),
      rows.map((r) => r.durationSeconds),
      rows.map((r) => r.lastEventTime),
      rows.map((r) => r.lastEventCode),
    ],
  });
}

/**
 * Until the CDR arrives, a call's dtmf is every key pressed so far, in time order; computed
 * from call_events so that it does not depend on the order the events arrived in.
 */
export async function refreshDtmfFromEvents(
  client: pg.PoolClient,
  callIds: string[],
): Promise<void> {
  if (callIds.length === 0) {
    return;
  }
  await client.query({
    name: "refresh-dtmf",
    text: `update calls c set dtmf = e.keys, updated_at = now()
             from (select call_id, string_agg(dtmf, '' order by status_time, dtmf) as keys
                     from call_events where call_id = any($1::text[]) and dtmf is not null
                    group by call_id) e
            where c.call_id = e.call_id and c.report_received_at is null
              and c.reconcile_status <> 'reconciled' and c.dtmf is distinct from e.keys`,
    values: [callIds],
  });
}

export async function insertCallEvents(client: pg.PoolClient, rows: CallEventRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  rows.sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
  await client.query({
    name: "insert-call-events",
    text: `insert into call_events (call_id, status_code, status_time, dtmf, out_id, smart_status_code, body)
           select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],
                                $6::text[], $7::jsonb[])
           on conflict on constraint call_events_natural_key do nothing`,
    values: [
      rows.map((r) => r.callId),
      rows.map((r) => r.statusCode),
      rows.map((r) => r.statusTime),
      rows.map((r) => r.dtmf),
      rows.map((r) => r.outId),
      rows.map((r) => r.smartStatusCode),
      rows.map((r) => JSON.stringify(r.body)),
    ],
  });
}

export async function insertRecordings(client: pg.PoolClient, rows: RecordingRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  rows.sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
  await client.query({
    name: "insert-recordings",
    text: `insert into recordings (call_id, record_file, out_id, start_time, end_time, duration_seconds,
                                   record_begin_time, status_code, smart_status_code, body)
           select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
                                $6::int[], $7::timestamptz[], $8::text[], $9::text[], $10::jsonb[])
           on conflict (call_id, record_file) do nothing`,
    values: [
      rows.map((r) => r.callId),
      rows.map((r) => r.recordFile),
      rows.map((r) => r.outId),
      rows.map((r) => r.startTime),
      rows.map((r) => r.endTime),
      rows.map((r) => r.durationSeconds),
      rows.map((r) => r.recordBeginTime),
      rows.map((r) => r.statusCode),
      rows.map((r) => r.smartStatusCode),
      rows.map((r) => JSON.stringify(r.body)),
    ],
  });
}
