/**
 * The outbox writer: events are inserted in the caller's transaction and announced with
 * `NOTIFY voice_receipts_events, '<event id>'`, which PostgreSQL delivers when (and only if)
 * that transaction commits. So an event exists if and only if the change that caused it
 * committed, and a LISTEN client learns its id at that moment.
 */
import type pg from "pg";

import type { NewEvent } from "../../domain/outcomeEvents.js";

export const EVENTS_CHANNEL = "voice_receipts_events";

const EMIT = `
with ins as (
  insert into events (id, type, call_id, out_id, payload)
  select e.id, e.type, e."callId", e."outId", e.payload
    from json_to_recordset($1::json) as e(id text, type text, "callId" text, "outId" text, payload jsonb)
  returning id, seq)
select count(pg_notify('${EVENTS_CHANNEL}', ins.id))::int as n from ins`;

/**
 * Writes `events` to the outbox. `client` must be the transaction's client (a pool would run
 * the insert in a transaction of its own, and the event could outlive a rolled-back change).
 */
export async function emitEvents(
  client: pg.PoolClient | pg.Client,
  events: readonly NewEvent[],
): Promise<void> {
  if (events.length === 0) {
    return;
  }
  await client.query({ name: "emit-events", text: EMIT, values: [JSON.stringify(events)] });
}
