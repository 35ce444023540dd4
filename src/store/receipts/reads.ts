/** Reads of `receipts`: by the sweeper, the persist workers, replay and the reconciler. */
import type pg from "pg";

/** Receipts durable for a while but never processed (their job was lost or failed for good). */
export async function findUnprocessed(
  db: pg.Pool,
  olderThanMs: number,
  limit: number,
): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>(
    `select id from receipts
      where processed_at is null and received_at < now() - make_interval(secs => $1)
      order by id limit $2`,
    [olderThanMs / 1000, limit],
  );
  return rows.map((r) => Number(r.id));
}

/** How many of `ids` are still unprocessed (a persist job's receipts another worker skipped). */
export async function countUnprocessed(pool: pg.Pool, ids: readonly number[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "select count(*)::int as n from receipts where id = any($1::bigint[]) and processed_at is null",
    [ids],
  );
  return rows[0]?.n ?? 0;
}

/** Which of `ids` are still unprocessed (replay waiting for the persist workers). */
export async function unprocessedIds(pool: pg.Pool, ids: readonly number[]): Promise<number[]> {
  const { rows } = await pool.query<{ id: string }>(
    "select id from receipts where id = any($1::bigint[]) and processed_at is null",
    [ids],
  );
  return rows.map((r) => Number(r.id));
}

/** The newest VoiceReport body per call, as received (for re-reconciles after a late CDR). */
export async function loadLatestReports(
  pool: pg.Pool,
  callIds: string[],
): Promise<Map<string, unknown>> {
  const { rows } = await pool.query<{ callId: string; body: unknown }>({
    name: "reconcile-load-reports",
    text: `select distinct on (call_id) call_id as "callId", body from receipts
            where call_id = any($1::text[]) and message_type = 'VoiceReport'
            order by call_id, id desc`,
    values: [callIds],
  });
  return new Map(rows.map((r) => [r.callId, r.body]));
}
