/**
 * The recording fetcher's outbox, in PostgreSQL: rows with fetch_status `pending` and a due
 * fetch_next_at. Claiming a row pushes fetch_next_at forward by a lease, so a process killed
 * mid-download simply lets the lease lapse and the row comes due again; nothing lives in Redis.
 *
 * One recording may have several rows: the same VoiceRecordReport redelivered with a freshly
 * signed URL is a new (call_id, record_file). Its identity is call_id + the URL without its query
 * (RECORDING_PATH); only one row per identity is claimed at a time, the one with the freshest link.
 */
import type pg from "pg";

/** The recording's identity within a call: its URL without the signature (SQL expression). */
export const RECORDING_PATH = "split_part(record_file, '?', 1)";

export interface ClaimedRecording {
  id: number;
  callId: string;
  recordFile: string;
  linkExpiresAt: Date;
  /** Attempts including this one. */
  attempts: number;
  /** The day the object key is filed under: the call's start, else the receipt's arrival. */
  day: Date;
}

export interface ClaimFilter {
  callId?: string;
  /** Only recordings received at or after this instant. */
  since?: Date;
}

/**
 * The claim (see claimDue): $1 limit, $2 lease in ms, $3 call_id, $4 received since (NULL: any).
 * Exported for the plan test (test/integration/recordings/claim.test.ts).
 */
export const CLAIM_DUE_SQL = `with picked as (
       select r.id from recordings r
        where r.fetch_status = 'pending' and r.fetch_next_at <= now()
          and ($3::text is null or r.call_id = $3)
          and ($4::timestamptz is null or r.received_at >= $4)
          -- no other row of the recording is stored, leased or waiting, or due with a fresher
          -- link (an equal one: a lower id)
          and not exists (
            select 1 from recordings s
             where s.call_id = r.call_id and s.id <> r.id
               and split_part(s.record_file, '?', 1) = split_part(r.record_file, '?', 1)
               and (s.fetch_status = 'stored'
                    or (s.fetch_status = 'pending'
                        and (s.fetch_next_at > now()
                             or (($4::timestamptz is null or s.received_at >= $4)
                                 and (coalesce(s.link_expires_at, 'infinity'), r.id)
                                     > (coalesce(r.link_expires_at, 'infinity'), s.id))))))
        order by r.link_expires_at, r.id
        limit $1
        for update of r skip locked)
     update recordings r
        set fetch_next_at = now() + $2 * interval '1 millisecond',
            fetch_attempts = r.fetch_attempts + 1
       from picked where r.id = picked.id
     returning r.id, r.call_id, r.record_file, r.link_expires_at, r.fetch_attempts,
               coalesce(r.start_time, r.record_begin_time, r.received_at) as day`;

/**
 * Claim up to `limit` due recordings, closest link expiry first, leasing each for `leaseMs`.
 * SKIP LOCKED lets any number of worker processes claim side by side.
 *
 * Of the rows of one recording (RECORDING_PATH), a row is claimable when it is the one with the
 * freshest link among those due (ties: the lowest id), none of them is leased or waiting out a
 * retry, and none is stored already (adoptStoredSiblings makes those rows stored without a
 * download). Written as a test per row rather than as a DISTINCT ON over every due row, so that
 * the claim walks recordings_fetch_claim_idx (migration 0012) in its ORDER BY and stops at
 * `limit`: with a backlog, the sort of every due row made each claim O(backlog), and the fetcher
 * claims each time a download ends. A NULL link_expires_at (the insert trigger fills it, so
 * none in practice) counts as the latest, as it did in that sort.
 */
export async function claimDue(
  pool: pg.Pool,
  limit: number,
  leaseMs: number,
  filter: ClaimFilter = {},
): Promise<ClaimedRecording[]> {
  const { rows } = await pool.query<{
    id: string;
    call_id: string;
    record_file: string;
    link_expires_at: Date;
    fetch_attempts: number;
    day: Date;
  }>(CLAIM_DUE_SQL, [limit, leaseMs, filter.callId ?? null, filter.since ?? null]);
  return rows
    .map((r) => ({
      id: Number(r.id),
      callId: r.call_id,
      recordFile: r.record_file,
      linkExpiresAt: r.link_expires_at,
      attempts: r.fetch_attempts,
      day: r.day,
    }))
    .sort((a, b) => a.linkExpiresAt.getTime() - b.linkExpiresAt.getTime());
}

/** Keep the lease of downloads still running (a large recording outlasts one lease). */
export async function extendLeases(pool: pg.Pool, ids: number[], leaseMs: number): Promise<void> {
  if (ids.length > 0) {
    await pool.query(
      `update recordings set fetch_next_at = now() + $2 * interval '1 millisecond'
        where id = any($1::bigint[]) and fetch_status = 'pending'`,
      [ids, leaseMs],
    );
  }
}

/** Give a claim back untried (the process is stopping): due now, the attempt not counted. */
export async function releaseClaim(pool: pg.Pool, id: number): Promise<void> {
  await pool.query(
    `update recordings set fetch_next_at = now(), fetch_attempts = greatest(fetch_attempts - 1, 0)
      where id = $1 and fetch_status = 'pending'`,
    [id],
  );
}

/**
 * Rows whose recording is already stored through another row (a redelivery with a freshly signed
 * URL) become stored too, pointing at the same object, without a download.
 */
export async function adoptStoredSiblings(pool: pg.Pool): Promise<number> {
  const res = await pool.query(
    `update recordings r
        set storage_key = s.storage_key, sha256 = s.sha256, bytes = s.bytes,
            content_type = s.content_type, stored_at = s.stored_at,
            fetch_status = 'stored', fetch_error = null
       from recordings s
      where r.fetch_status in ('pending', 'expired', 'failed')
        and s.fetch_status = 'stored' and s.call_id = r.call_id and s.id <> r.id
        and split_part(s.record_file, '?', 1) = split_part(r.record_file, '?', 1)`,
  );
  return res.rowCount ?? 0;
}

/** VMS_RECORDINGS_STORE=off: pending recordings are `skipped` (`recordings fetch` revives them). */
export async function skipPending(pool: pg.Pool): Promise<number> {
  const res = await pool.query(
    `update recordings set fetch_status = 'skipped', fetch_error = 'VMS_RECORDINGS_STORE=off'
      where fetch_status = 'pending'`,
  );
  return res.rowCount ?? 0;
}

/**
 * Backfill (`recordings fetch`): failed and skipped recordings, and expired ones whose link has
 * not actually expired, become pending and due now with a fresh attempt count.
 */
export async function requeue(pool: pg.Pool, filter: ClaimFilter): Promise<number> {
  const res = await pool.query(
    `update recordings
        set fetch_status = 'pending', fetch_next_at = now(), fetch_attempts = 0, fetch_error = null
      where (fetch_status in ('failed', 'skipped')
             or (fetch_status = 'expired' and link_expires_at > now())
             or (fetch_status = 'pending' and fetch_next_at > now() + interval '1 minute'))
        and ($1::text is null or call_id = $1)
        and ($2::timestamptz is null or received_at >= $2)`,
    [filter.callId ?? null, filter.since ?? null],
  );
  return res.rowCount ?? 0;
}
