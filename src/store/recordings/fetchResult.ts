/**
 * Outcomes of one download attempt, written to `recordings`. A stored recording is written to
 * every row of the same recording (call_id + URL without query), so redeliveries point at one
 * object.
 */
import type pg from "pg";

export interface StoredObject {
  storageKey: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

export async function markStored(pool: pg.Pool, id: number, o: StoredObject): Promise<number> {
  const res = await pool.query(
    `update recordings r
        set storage_key = $2, sha256 = $3, bytes = $4, content_type = $5, stored_at = now(),
            fetch_status = 'stored', fetch_error = null
       from recordings me
      where me.id = $1 and r.call_id = me.call_id
        and split_part(r.record_file, '?', 1) = split_part(me.record_file, '?', 1)
        and r.fetch_status <> 'stored'`,
    [id, o.storageKey, o.sha256, o.bytes, o.contentType],
  );
  return res.rowCount ?? 0;
}

/** A failure worth another try at `nextAt`. */
export async function markRetry(
  pool: pg.Pool,
  id: number,
  error: string,
  nextAt: Date,
): Promise<void> {
  await pool.query(
    `update recordings set fetch_error = $2, fetch_next_at = $3
      where id = $1 and fetch_status = 'pending'`,
    [id, error, nextAt],
  );
}

/** A final outcome: `expired` (the link is gone) or `failed` (refused, too large, out of tries). */
export async function markFinal(
  pool: pg.Pool,
  id: number,
  status: "expired" | "failed",
  error: string,
): Promise<void> {
  await pool.query(
    `update recordings set fetch_status = $2, fetch_error = $3
      where id = $1 and fetch_status = 'pending'`,
    [id, status, error],
  );
}
