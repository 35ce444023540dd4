/**
 * Retention of recordings (`voice-receipts prune`): rows received before the cutoff are deleted
 * together with their stored objects. Objects go first: an interrupted prune leaves rows whose
 * object is already gone, which the next prune finishes (deleting an absent object is no error);
 * the other order could leave objects nothing points at, never found again. An object still referenced by a
 * newer row of the same recording (a later redelivery) is kept.
 */
import type pg from "pg";

export interface RecordingPruneResult {
  rows: number;
  objects: number;
}

export async function pruneRecordings(
  pool: pg.Pool,
  opts: {
    cutoff: Date;
    dryRun: boolean;
    /** Removes one stored object; undefined when the store is off (stored rows are then kept). */
    deleteObject: ((key: string) => Promise<void>) | undefined;
    batch?: number;
  },
): Promise<RecordingPruneResult> {
  const result: RecordingPruneResult = { rows: 0, objects: 0 };
  const onlyUnstored = opts.deleteObject === undefined;
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<{ id: string; storage_key: string | null; shared: boolean }>(
      `select r.id, r.storage_key,
              exists (select 1 from recordings s
                       where s.call_id = r.call_id and s.storage_key = r.storage_key
                         and s.received_at >= $1) as shared
         from recordings r
        where r.received_at < $1 and r.id > $2 and ($4::boolean is false or r.storage_key is null)
        order by r.id limit $3`,
      [opts.cutoff, after, opts.batch ?? 500, onlyUnstored],
    );
    if (rows.length === 0) {
      return result;
    }
    after = Number(rows[rows.length - 1]?.id);
    const keys = new Set(
      rows.filter((r) => r.storage_key && !r.shared).map((r) => r.storage_key as string),
    );
    result.rows += rows.length;
    result.objects += keys.size;
    if (opts.dryRun) {
      continue;
    }
    for (const key of keys) {
      await opts.deleteObject?.(key);
    }
    await pool.query("delete from recordings where id = any($1::bigint[])", [
      rows.map((r) => r.id),
    ]);
  }
}
