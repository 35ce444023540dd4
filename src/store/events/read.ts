/**
 * Reading the outbox: events by time range (replay) and by id (a LISTEN consumer's lookup).
 */
import type pg from "pg";

/** An outbox event as fan-out, routing and replay see it (not its payload). */
export interface StoredEvent {
  id: string;
  seq: string;
  type: string;
  occurred_at: string;
  call_id: string | null;
  out_id: string | null;
}

/** The select list that reads a StoredEvent from `events`. */
export const STORED_EVENT_COLUMNS =
  "id, seq::text as seq, type, occurred_at::text as occurred_at, call_id, out_id";

/** Events with since <= occurred_at < until (optionally of one type), in event order. */
export async function eventsBetween(
  db: pg.Pool,
  opts: { since: Date; until: Date; type?: string },
): Promise<StoredEvent[]> {
  const { rows } = await db.query<StoredEvent>(
    `select ${STORED_EVENT_COLUMNS}
       from events e
      where e.occurred_at >= $1 and e.occurred_at < $2 and ($3::text is null or e.type = $3)
      order by e.seq`,
    [opts.since, opts.until, opts.type ?? null],
  );
  return rows;
}

export async function eventById(
  db: pg.Pool,
  id: string,
): Promise<{ id: string; type: string; payload: unknown } | undefined> {
  const { rows } = await db.query<{ id: string; type: string; payload: unknown }>(
    "select id, type, payload from events where id = $1",
    [id],
  );
  return rows[0];
}
