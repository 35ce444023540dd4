/**
 * Reading deliveries for `deliveries list`: the latest row of each (event, endpoint), so an
 * event that failed twice and then got through is listed once, as delivered.
 */
import type pg from "pg";

export interface DeliveryListRow {
  event_id: string;
  event_type: string;
  call_id: string | null;
  endpoint: string;
  attempt: number;
  status: string;
  due_at: Date;
  attempted_at: Date | null;
  http_status: number | null;
  latency_ms: number | null;
  error: string | null;
  response: string | null;
  event_occurred_at: Date;
}

export async function listDeliveries(
  db: pg.Pool,
  opts: { status?: string; since?: Date; limit: number },
): Promise<DeliveryListRow[]> {
  const { rows } = await db.query<DeliveryListRow>(
    `select * from (
       select distinct on (event_id, endpoint)
              event_id, event_type, call_id, endpoint, attempt, status, due_at, attempted_at,
              http_status, latency_ms, error, response, event_occurred_at, id
         from deliveries
        where ($2::timestamptz is null or event_occurred_at >= $2)
        order by event_id, endpoint, id desc) latest
      where ($1::text is null or status = $1)
      order by event_occurred_at, id
      limit $3`,
    [opts.status ?? null, opts.since ?? null, opts.limit],
  );
  return rows;
}
