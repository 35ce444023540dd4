/**
 * Fan-out: each new event becomes one pending delivery per endpoint that wants it (type filter,
 * out_id prefix). One fan-out at a time across all workers (a transaction-level advisory lock,
 * tried, never waited for), and in event order, so a later event of a call never has a pending
 * delivery before an earlier one: that is what keeps delivery in order per call.
 */
import type pg from "pg";

import { STORED_EVENT_COLUMNS, type StoredEvent } from "../events/read.js";

/** Arbitrary but fixed: "voice-receipts fan-out" as a 63-bit key. */
const FAN_OUT_LOCK = 7403221905118301;

export type UnfannedEvent = StoredEvent;

export interface PendingDeliveryRow {
  eventId: string;
  eventSeq: string;
  eventOccurredAt: string;
  eventType: string;
  callId: string | null;
  endpoint: string;
  /** Wait before the first attempt (VMS_WEBHOOK_RETRY_SCHEDULE's first entry). */
  delayMs: number;
}

const INSERT_PENDING = `
insert into deliveries (event_id, event_seq, event_occurred_at, event_type, call_id, endpoint,
                        attempt, status, due_at, replay)
select r."eventId", r."eventSeq", r."eventOccurredAt", r."eventType", r."callId", r.endpoint,
       1, 'pending', now() + r."delayMs" * interval '1 millisecond', $2
  from json_to_recordset($1::json) as r("eventId" text, "eventSeq" bigint,
       "eventOccurredAt" timestamptz, "eventType" text, "callId" text, endpoint text, "delayMs" int)`;

/**
 * Takes up to `limit` events not fanned out yet, lets `route` name their deliveries, inserts
 * those and marks the events fanned out, in one transaction. Returns how many events it took
 * (0 also when another worker is fanning out right now).
 */
export async function fanOutEvents(
  pool: pg.Pool,
  limit: number,
  route: (events: UnfannedEvent[]) => PendingDeliveryRow[],
): Promise<{ events: number; deliveries: number }> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows: lock } = await client.query<{ ok: boolean }>(
      "select pg_try_advisory_xact_lock($1) as ok",
      [FAN_OUT_LOCK],
    );
    if (lock[0]?.ok !== true) {
      await client.query("rollback");
      return { events: 0, deliveries: 0 };
    }
    const { rows } = await client.query<UnfannedEvent>(
      `select ${STORED_EVENT_COLUMNS}
         from events e where fanned_out_at is null order by e.seq limit $1`,
      [limit],
    );
    const pending = route(rows);
    if (pending.length > 0) {
      await client.query(INSERT_PENDING, [JSON.stringify(pending), false]);
    }
    if (rows.length > 0) {
      await client.query(
        `update events e set fanned_out_at = now()
           from unnest($1::text[], $2::timestamptz[]) as x(id, occurred_at)
          where e.id = x.id and e.occurred_at = x.occurred_at`,
        [rows.map((r) => r.id), rows.map((r) => r.occurred_at)],
      );
    }
    await client.query("commit");
    return { events: rows.length, deliveries: pending.length };
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Inserts pending deliveries for a replay (`deliveries replay`): marked replay = true. */
export async function insertReplayDeliveries(
  db: pg.Pool | pg.PoolClient,
  rows: readonly PendingDeliveryRow[],
): Promise<number> {
  if (rows.length === 0) {
    return 0;
  }
  const r = await db.query(INSERT_PENDING, [JSON.stringify(rows), true]);
  return r.rowCount ?? 0;
}
