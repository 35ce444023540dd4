/**
 * Recording one attempt's outcome: the pending row becomes `delivered`, `failed` (with the next
 * attempt inserted as a new pending row) or `dead`, and the endpoint's failing/paused state is
 * updated, in one transaction. Only a row still pending is changed: if the lease expired and
 * another worker already recorded this delivery, this outcome adds nothing.
 */
import type pg from "pg";

export interface AttemptOutcome {
  id: string;
  createdAt: string;
  endpoint: string;
  ok: boolean;
  httpStatus: number | null;
  latencyMs: number;
  /** The first bytes of the response body. */
  response: string | null;
  error: string | null;
  /** Wait before the next attempt; null: this was the last one (dead). */
  nextDelayMs: number | null;
  /** Pause the endpoint when it has failed everything for this long. */
  pauseAfterMs: number;
}

export interface RecordedAttempt {
  /** False when the row was no longer pending (recorded by another worker). */
  recorded: boolean;
  status: "delivered" | "failed" | "dead" | null;
  /** The endpoint was paused by this failure. */
  paused: boolean;
}

const RECORD = `
with upd as (
  update deliveries set
    status = case when $3 then 'delivered' when $8::int is null then 'dead' else 'failed' end,
    attempted_at = now(), leased_until = null, http_status = $4, latency_ms = $5,
    response = $6, error = $7
   where id = $1 and created_at = $2 and status = 'pending'
  returning *),
nxt as (
  insert into deliveries (event_id, event_seq, event_occurred_at, event_type, call_id, endpoint,
                          attempt, status, due_at, replay)
  select event_id, event_seq, event_occurred_at, event_type, call_id, endpoint, attempt + 1,
         'pending', now() + $8::int * interval '1 millisecond', replay
    from upd where upd.status = 'failed'
  returning 1)
select upd.status, (select count(*) from nxt)::int as next from upd`;

const ENDPOINT_OK = `
insert into delivery_endpoints (url, last_success_at, failing_since, updated_at)
values ($1, now(), null, now())
on conflict (url) do update set last_success_at = now(), failing_since = null, updated_at = now()`;

/** Returns whether this failure paused the endpoint (it was not paused before). */
const ENDPOINT_FAILED = `
with prev as (select paused_at from delivery_endpoints where url = $1),
up as (
  insert into delivery_endpoints (url, failing_since, updated_at) values ($1, now(), now())
  on conflict (url) do update set
    failing_since = coalesce(delivery_endpoints.failing_since, now()),
    paused_at = case
      when delivery_endpoints.paused_at is null
       and delivery_endpoints.failing_since <= now() - $2 * interval '1 millisecond'
      then now() else delivery_endpoints.paused_at end,
    updated_at = now()
  returning paused_at)
select (select paused_at from up) is not null
   and (select paused_at from prev) is null as paused`;

export async function recordAttempt(pool: pg.Pool, o: AttemptOutcome): Promise<RecordedAttempt> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows } = await client.query<{ status: RecordedAttempt["status"] }>(RECORD, [
      o.id,
      o.createdAt,
      o.ok,
      o.httpStatus,
      Math.round(o.latencyMs),
      o.response,
      o.error,
      o.nextDelayMs,
    ]);
    const status = rows[0]?.status ?? null;
    let paused = false;
    if (status !== null) {
      if (o.ok) {
        await client.query(ENDPOINT_OK, [o.endpoint]);
      } else {
        const r = await client.query<{ paused: boolean }>(ENDPOINT_FAILED, [
          o.endpoint,
          o.pauseAfterMs,
        ]);
        paused = r.rows[0]?.paused === true;
      }
    }
    await client.query("commit");
    return { recorded: status !== null, status, paused };
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
