/**
 * Set-based writes of normalised receipts into calls, call_events and recordings: a batch is
 * one statement (applyRows) whose rows travel as JSON, plus the dtmf refresh. Rows are sorted by
 * key so that concurrent transactions lock rows in the same order and cannot deadlock each
 * other.
 */
import type pg from "pg";

import type { CallEventRow, CallPatch, RecordingRow } from "../../domain/receipt.js";
import { isoTime } from "../receiptsStore.js";

/**
 * One merged row per call, produced by mergeCallPatches (pipeline/persist.ts): the columns of a
 * receipt's CallPatch, plus whether a VoiceReport is in the batch (its values then override
 * earlier receipt values).
 */
export type CallRow = Omit<CallPatch, "source" | "eventTime"> & { hasReport: boolean };

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
const CALLS_ON_CONFLICT = `on conflict (call_id) do update set
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

/** CallRow as json_to_recordset reads it (JSON keys are CallRow's property names). */
const CALLS_JSON_COLUMNS = [
  `"callId" text`,
  `"direction" text`,
  `"hasReport" boolean`,
  ...TEXT_COLUMNS.map(([, k]) => `"${k}" text`),
  ...TIME_COLUMNS.map(([, k]) => `"${k}" timestamptz`),
  `"durationSeconds" int`,
  `"lastEventTime" timestamptz`,
  `"lastEventCode" text`,
].join(", ");

/**
 * Everything one batch of receipts writes, in ONE statement (one round trip, one plan):
 * calls upserted, call_events and recordings inserted, receipts marked processed. Rows travel
 * as JSON (json_to_recordset), which the driver sends as one string instead of escaping every
 * element into array literals; the jsonb bodies of events and recordings are copied from their
 * `receipts` row in the database rather than sent back and parsed again.
 *
 * The data-modifying CTEs are read by the final SELECT in this order, so a transaction locks
 * calls rows (sorted by call_id) before it inserts events and recordings; receipts are already
 * locked by the caller. A duplicate event or recording (same natural key) is left as it is.
 */
const APPLY_ROWS = `
with c as (
  insert into calls (call_id, direction, ${FIELD_COLUMNS.map(([c]) => c).join(", ")},
                     report_received_at, last_event_time, last_event_code, updated_at)
  select u."callId", u."direction", ${FIELD_COLUMNS.map(([, k]) => `u."${k}"`).join(", ")},
         case when u."hasReport" then now() end, u."lastEventTime", u."lastEventCode", now()
    from json_to_recordset($1::json) as u(${CALLS_JSON_COLUMNS})
  ${CALLS_ON_CONFLICT}
  returning 1),
e as (
  insert into call_events (call_id, status_code, status_time, dtmf, out_id, smart_status_code, body)
  select x."callId", x."statusCode", x."statusTime", x."dtmf", x."outId", x."smartStatusCode",
         (select r.body from receipts r
           where r.id = x."receiptId" and r.receipt_time = x."receiptTime")
    from json_to_recordset($2::json)
      as x("receiptId" bigint, "receiptTime" timestamptz, "callId" text, "statusCode" text,
           "statusTime" timestamptz, "dtmf" text, "outId" text, "smartStatusCode" text)
  on conflict on constraint call_events_natural_key do nothing
  returning 1),
rec as (
  insert into recordings (call_id, record_file, out_id, start_time, end_time, duration_seconds,
                          record_begin_time, status_code, smart_status_code, body)
  select x."callId", x."recordFile", x."outId", x."startTime", x."endTime", x."durationSeconds",
         x."recordBeginTime", x."statusCode", x."smartStatusCode",
         (select r.body from receipts r
           where r.id = x."receiptId" and r.receipt_time = x."receiptTime")
    from json_to_recordset($3::json)
      as x("receiptId" bigint, "receiptTime" timestamptz, "callId" text, "recordFile" text,
           "outId" text, "startTime" timestamptz, "endTime" timestamptz, "durationSeconds" int,
           "recordBeginTime" timestamptz, "statusCode" text, "smartStatusCode" text)
  on conflict (call_id, record_file) do nothing
  returning 1),
m as (
  update receipts set processed_at = now() where id = any($4::bigint[])
  returning 1)
select (select count(*) from c)::int as calls, (select count(*) from e)::int as events,
       (select count(*) from rec)::int as recordings, (select count(*) from m)::int as processed`;

/**
 * A call_events or recordings row whose body is that of receipt `receiptId`; its receipt_time
 * (the partition key) lets the body be read from that one partition (run-time pruning).
 */
export type FromReceipt<R> = Omit<R, "body"> & { receiptId: number | string; receiptTime: string };

export interface BatchRows {
  calls: CallRow[];
  events: FromReceipt<CallEventRow>[];
  recordings: FromReceipt<RecordingRow>[];
  /** Receipts applied by these rows, marked processed in the same statement. */
  processedIds: readonly (number | string)[];
}

const byCallId = (a: { callId: string }, b: { callId: string }) =>
  a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0;

const iso = (d: Date | null): string | null => (d === null ? null : isoTime(d));

/** Writes one batch (see APPLY_ROWS). Must run inside the caller's transaction. */
export async function applyRows(client: pg.PoolClient, rows: BatchRows): Promise<void> {
  // Sorted so that concurrent transactions lock rows in the same order (see the file header).
  rows.calls.sort(byCallId);
  rows.events.sort(byCallId);
  rows.recordings.sort(byCallId);
  await client.query({
    name: "apply-rows",
    text: APPLY_ROWS,
    values: [
      JSON.stringify(
        rows.calls.map((r) => ({
          ...r,
          originateTime: iso(r.originateTime),
          ringTime: iso(r.ringTime),
          startTime: iso(r.startTime),
          endTime: iso(r.endTime),
          lastEventTime: iso(r.lastEventTime),
        })),
      ),
      JSON.stringify(rows.events.map((r) => ({ ...r, statusTime: iso(r.statusTime) }))),
      JSON.stringify(
        rows.recordings.map((r) => ({
          ...r,
          startTime: iso(r.startTime),
          endTime: iso(r.endTime),
          recordBeginTime: iso(r.recordBeginTime),
        })),
      ),
      rows.processedIds,
    ],
  });
}

/** The keys of one call, in time order: an aggregate on the natural-key index of call_events. */
const DTMF_KEYS = `(select string_agg(ce.dtmf, '' order by ce.status_time, ce.dtmf)
                      from call_events ce where ce.call_id = c.call_id and ce.dtmf is not null)`;

const REFRESH_DTMF = `update calls c set dtmf = ${DTMF_KEYS}, updated_at = now()
  where c.call_id = any($1::text[])
    and c.report_received_at is null and c.reconcile_status <> 'reconciled'
    and ${DTMF_KEYS} is not null and c.dtmf is distinct from ${DTMF_KEYS}`;

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
    // No join: calls rows are found by primary key (`= any`) and each one's keys looked up by
    // index, so the work is proportional to the ids given whatever the planner's statistics
    // say. (A join of calls with the aggregated events was planned, on some statistics, as a
    // whole-table scan of calls, or as a nested loop over both sides: O(table) or O(n²) per
    // batch.) Not a named statement: a generic plan made while calls was tiny would scan it
    // whole and stay cached on the connection as the table grows.
    text: REFRESH_DTMF,
    values: [callIds],
  });
}
