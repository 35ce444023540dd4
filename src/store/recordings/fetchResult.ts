/**
 * Outcomes of one download attempt, written to `recordings`. A stored recording is written to
 * every row of the same recording (call_id + URL without query), so redeliveries point at one
 * object. `recording.stored` and `recording.expired` go to the outbox in the same transaction
 * as the change, once per recording (only when this write changed it).
 */
import type pg from "pg";

import { recordingEvent, type RecordingFacts } from "../../domain/outcomeEvents.js";
import { emitEvents } from "../events/emit.js";
import { inTransaction } from "../transaction.js";

interface FactsRow {
  call_id: string;
  out_id: string | null;
  record_file: string;
  start_time: Date | null;
  end_time: Date | null;
  duration_seconds: number | null;
}

const facts = (r: FactsRow): RecordingFacts => ({
  callId: r.call_id,
  outId: r.out_id,
  recordFile: r.record_file,
  startTime: r.start_time,
  endTime: r.end_time,
  durationSeconds: r.duration_seconds,
});

const FACTS = "r.call_id, r.out_id, r.record_file, r.start_time, r.end_time, r.duration_seconds";

export interface StoredObject {
  storageKey: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

export async function markStored(pool: pg.Pool, id: number, o: StoredObject): Promise<number> {
  return inTransaction(pool, async (client) => {
    const res = await client.query<FactsRow & { id: string }>(
      `update recordings r
          set storage_key = $2, sha256 = $3, bytes = $4, content_type = $5, stored_at = now(),
              fetch_status = 'stored', fetch_error = null
         from recordings me
        where me.id = $1 and r.call_id = me.call_id
          and split_part(r.record_file, '?', 1) = split_part(me.record_file, '?', 1)
          and r.fetch_status <> 'stored'
        returning r.id, ${FACTS}`,
      [id, o.storageKey, o.sha256, o.bytes, o.contentType],
    );
    // One event per recording: the row that was fetched, or any row of it that changed.
    const row = res.rows.find((r) => Number(r.id) === id) ?? res.rows[0];
    if (row) {
      await emitEvents(client, [
        recordingEvent("recording.stored", {
          ...facts(row),
          location: o.storageKey,
          bytes: o.bytes,
          sha256: o.sha256,
          contentType: o.contentType,
        }),
      ]);
    }
    return res.rowCount ?? 0;
  });
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
  await inTransaction(pool, async (client) => {
    const res = await client.query<FactsRow>(
      `update recordings r set fetch_status = $2, fetch_error = $3
        where r.id = $1 and r.fetch_status = 'pending'
        returning ${FACTS}`,
      [id, status, error],
    );
    const row = res.rows[0];
    if (row && status === "expired") {
      await emitEvents(client, [
        recordingEvent("recording.expired", { ...facts(row), reason: error }),
      ]);
    }
  });
}
