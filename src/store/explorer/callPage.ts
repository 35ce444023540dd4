/**
 * Everything stored about one call, for the explorer's call page: the calls row, its receipts,
 * in-call events, recordings, smart-call dialogue turns and webhook deliveries. Each read is by
 * call_id through the table's own index (receipts_call_id_idx and call_events' natural key on
 * every partition, the natural keys of recordings and dialogue_turns, events_call_type_idx then
 * deliveries_event_idx per event). Reads only.
 */
import type pg from "pg";

import type { CallOutcomeRow } from "../../domain/outcomeEvents.js";

import { CALL_TIME, PRODUCT_SQL } from "./callTime.js";

/** A call has a handful of each; the caps only keep a pathological call's page finite. */
const MAX_ROWS = 500;

/** The calls row (`select c.*`) with the explorer's product and call time. */
export interface CallRecord extends CallOutcomeRow {
  product: string | null;
  early_media_code: string | null;
  reconcile_attempts: number;
  detail: unknown;
  created_at: Date;
  call_time: Date;
}

export interface ReceiptRecord {
  id: string;
  message_type: string;
  source: string;
  status_code: string | null;
  event_time: Date | null;
  received_at: Date;
  processed_at: Date | null;
  error: string | null;
  body: unknown;
}

export interface EventRecord {
  status_code: string;
  status_time: Date | null;
  dtmf: string | null;
  smart_status_code: string | null;
  received_at: Date;
}

/**
 * A recordings row with whatever columns the table has: the recording store adds storage_key
 * and fetch_status (README "Call explorer": the page plays the stored copy when they exist).
 */
export type RecordingRecord = {
  id: string;
  record_file: string;
  record_begin_time: Date | null;
  start_time: Date | null;
  duration_seconds: number | null;
  status_code: string | null;
  received_at: Date;
} & Record<string, unknown>;

export interface TurnRecord {
  turn_time: Date;
  role: string | null;
  content_type: string;
  words: string | null;
  dtmf: string | null;
  answered_action: string | null;
  answered_action_code: string | null;
  answered_by: string | null;
  answered_reason: string | null;
  latency_ms: number | null;
  deliveries: number;
}

/** One outcome event of the call with one of its delivery attempts (null: none yet). */
export interface DeliveryRecord {
  event_id: string;
  event_type: string;
  occurred_at: Date;
  endpoint: string | null;
  attempt: number | null;
  status: string | null;
  due_at: Date | null;
  attempted_at: Date | null;
  http_status: number | null;
  latency_ms: number | null;
  error: string | null;
  response: string | null;
}

export interface CallStory {
  call: CallRecord;
  receipts: ReceiptRecord[];
  events: EventRecord[];
  recordings: RecordingRecord[];
  turns: TurnRecord[];
  deliveries: DeliveryRecord[];
}

/** The statements of loadCall, each taking the call_id as $1 (shown by EXPLAIN in a test). */
export const CALL_QUERIES = {
  call: `select c.*, ${PRODUCT_SQL} as product, ${CALL_TIME} as call_time
           from calls c where c.call_id = $1`,
  receipts: `select r.id::text as id, r.message_type, r.source, r.status_code, r.event_time,
                    r.received_at, r.processed_at, r.error, r.body
               from receipts r where r.call_id = $1
              order by r.received_at, r.id limit ${MAX_ROWS}`,
  events: `select e.status_code, e.status_time, e.dtmf, e.smart_status_code, e.received_at
             from call_events e where e.call_id = $1
            order by e.status_time nulls last, e.received_at, e.id limit ${MAX_ROWS}`,
  recordings: `select r.*, r.id::text as id from recordings r where r.call_id = $1
                order by r.received_at, r.id limit ${MAX_ROWS}`,
  turns: `select t.turn_time, t.role, t.content_type, t.words, t.dtmf, t.answered_action,
                 t.answered_action_code, t.answered_by, t.answered_reason, t.latency_ms, t.deliveries
            from dialogue_turns t where t.call_id = $1
           order by t.turn_time, t.id limit ${MAX_ROWS}`,
  // deliveries has no call_id index (its sender reads by endpoint and due time): the call's
  // events through events_call_type_idx, then each event's attempts through deliveries_event_idx.
  deliveries: `select e.id as event_id, e.type as event_type, e.occurred_at, d.endpoint, d.attempt,
                      d.status, d.due_at, d.attempted_at, d.http_status, d.latency_ms, d.error,
                      left(d.response, 200) as response
                 from (select ev.id, ev.type, ev.occurred_at, ev.seq from events ev
                        where ev.call_id = $1 order by ev.seq limit 100) e
                 left join lateral (
                   select * from deliveries dl where dl.event_id = e.id
                    order by dl.endpoint, dl.attempt, dl.id limit 50) d on true
                order by e.seq, d.endpoint, d.attempt, d.id`,
} as const;

export async function loadCall(pool: pg.Pool, callId: string): Promise<CallStory | undefined> {
  const { rows } = await pool.query<CallRecord>(CALL_QUERIES.call, [callId]);
  const call = rows[0];
  if (!call) {
    return undefined;
  }
  const [receipts, events, recordings, turns, deliveries] = await Promise.all([
    pool.query<ReceiptRecord>(CALL_QUERIES.receipts, [callId]),
    pool.query<EventRecord>(CALL_QUERIES.events, [callId]),
    pool.query<RecordingRecord>(CALL_QUERIES.recordings, [callId]),
    pool.query<TurnRecord>(CALL_QUERIES.turns, [callId]),
    pool.query<DeliveryRecord>(CALL_QUERIES.deliveries, [callId]),
  ]);
  return {
    call,
    receipts: receipts.rows,
    events: events.rows,
    recordings: recordings.rows,
    turns: turns.rows,
    deliveries: deliveries.rows,
  };
}
