/**
 * Call-level outcome events (call.completed, call.reconciled, call.not_found), built from the
 * `calls` row (and its recordings) as the caller's transaction sees it, right after the change,
 * and written to the outbox in that same transaction (emit.ts). The stores that write `calls`
 * call these with their transaction's client.
 */
import type pg from "pg";

import {
  callEvent,
  type CallOutcomeRow,
  type NewEvent,
  type RecordingLocation,
} from "../../domain/outcomeEvents.js";
import { ENDED_EVENT_CODE } from "../../domain/statusCodes.js";
import { emitEvents } from "./emit.js";

const CALL_COLUMNS = `c.call_id, c.direction, c.out_id, c.caller, c.callee, c.status_code,
  c.status_msg, c.smart_status_code, c.voice_type, c.originate_time, c.ring_time, c.start_time,
  c.end_time, c.duration_seconds, c.hangup_direction, c.dtmf, c.prod_id, c.reconcile_status,
  c.reconcile_skip_reason, c.reconciled_at, c.discrepancies, c.report_received_at,
  c.last_event_code, c.last_event_time, c.updated_at`;

/**
 * The recordings of these calls; the location is given only once the recording is stored.
 * The columns are read directly (0008, which adds them, precedes the outbox's 0010): through
 * to_jsonb(r) every whole row was serialised, body included, 0.93 against 0.14 ms per 91
 * recordings of a persist batch (docs/benchmarks.md, "The persist regression").
 */
async function recordingsOf(
  client: pg.PoolClient,
  callIds: readonly string[],
): Promise<Map<string, RecordingLocation[]>> {
  const { rows } = await client.query<{
    call_id: string;
    record_file: string;
    location: string | null;
  }>(
    `select r.call_id, r.record_file,
            case when r.fetch_status = 'stored' then r.storage_key end as location
       from recordings r where r.call_id = any($1::text[]) order by r.id`,
    [callIds],
  );
  const out = new Map<string, RecordingLocation[]>();
  for (const r of rows) {
    const list = out.get(r.call_id) ?? [];
    list.push({ record_file: r.record_file, location: r.location });
    out.set(r.call_id, list);
  }
  return out;
}

async function build(
  client: pg.PoolClient,
  type: "call.completed" | "call.reconciled" | "call.not_found",
  rows: CallOutcomeRow[],
  extra: (row: CallOutcomeRow) => Record<string, unknown> = () => ({}),
): Promise<NewEvent[]> {
  if (rows.length === 0) {
    return [];
  }
  const recordings = await recordingsOf(
    client,
    rows.map((r) => r.call_id),
  );
  return rows.map((r) => callEvent(type, r, recordings.get(r.call_id) ?? [], extra(r)));
}

/**
 * call.completed for those of `callIds` whose result is now known — the VoiceReport (CDR) was
 * applied, or an inbound call ended (its hang-up event) — and that have none yet. Once per
 * call: the caller's transaction holds the calls rows locked (it just wrote them), so a
 * concurrent transaction on the same call runs this after it committed and sees its event.
 */
export async function emitCallsCompleted(
  client: pg.PoolClient,
  callIds: readonly string[],
): Promise<number> {
  if (callIds.length === 0) {
    return 0;
  }
  const { rows } = await client.query<CallOutcomeRow>(
    `select ${CALL_COLUMNS} from calls c
      where c.call_id = any($1::text[])
        and (c.report_received_at is not null
             or (c.direction = 'inbound' and c.last_event_code = $2))
        and not exists (select 1 from events e
                         where e.call_id = c.call_id and e.type = 'call.completed')
      order by c.call_id`,
    [callIds, ENDED_EVENT_CODE],
  );
  const events = await build(client, "call.completed", rows);
  await emitEvents(client, events);
  return events.length;
}

/**
 * call.reconciled (with `changed`: whether the detail changed any column of the call) or
 * call.not_found, for calls the caller's transaction has just written.
 */
export async function emitReconcileOutcomes(
  client: pg.PoolClient,
  type: "call.reconciled" | "call.not_found",
  calls: readonly { callId: string; changed?: boolean }[],
): Promise<number> {
  if (calls.length === 0) {
    return 0;
  }
  const changed = new Map(calls.map((c) => [c.callId, c.changed]));
  const { rows } = await client.query<CallOutcomeRow>(
    `select ${CALL_COLUMNS} from calls c where c.call_id = any($1::text[]) order by c.call_id`,
    [calls.map((c) => c.callId)],
  );
  const events = await build(client, type, rows, (r) =>
    type === "call.reconciled" ? { changed: changed.get(r.call_id) ?? false } : {},
  );
  await emitEvents(client, events);
  return events.length;
}
