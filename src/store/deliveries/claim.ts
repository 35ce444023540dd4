/**
 * Claiming due deliveries. Several workers share the work: rows are picked with FOR UPDATE
 * SKIP LOCKED and leased (leased_until) in the same statement, so each pending delivery is sent
 * by one worker at a time; a worker killed mid-send leaves a lease that expires, and the next
 * worker sends the same event again (same webhook-id: the receiver dedups).
 *
 * A delivery is due only when no earlier event of the same call still has a pending delivery
 * to the same endpoint: in order per call, per endpoint. Paused endpoints are skipped.
 */
import type pg from "pg";

export interface ClaimedDelivery {
  id: string;
  created_at: string;
  event_id: string;
  event_type: string;
  call_id: string | null;
  endpoint: string;
  attempt: number;
  replay: boolean;
  /** The event's payload as stored (jsonb text): signed and sent byte for byte. */
  payload: string;
}

const CLAIM = `
with due as (
  select d.id, d.created_at from deliveries d
   where d.status = 'pending' and d.due_at <= now()
     and (d.leased_until is null or d.leased_until < now())
     and d.endpoint = any($2::text[])
     and not exists (select 1 from delivery_endpoints p
                      where p.url = d.endpoint and p.paused_at is not null)
     and not exists (select 1 from deliveries b
                      where b.status = 'pending' and b.endpoint = d.endpoint
                        and b.call_id = d.call_id and b.event_seq < d.event_seq)
   order by d.due_at, d.event_seq
   limit $1
   for update of d skip locked)
update deliveries d set leased_until = now() + $3 * interval '1 millisecond'
  from due
 where d.id = due.id and d.created_at = due.created_at
returning d.id::text as id, d.created_at::text as created_at, d.event_id, d.event_type, d.call_id,
          d.endpoint, d.attempt, d.replay,
          (select e.payload::text from events e
            where e.id = d.event_id and e.occurred_at = d.event_occurred_at) as payload`;

export async function claimDueDeliveries(
  pool: pg.Pool,
  opts: { limit: number; endpoints: readonly string[]; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  if (opts.limit <= 0 || opts.endpoints.length === 0) {
    return [];
  }
  const { rows } = await pool.query<ClaimedDelivery>(CLAIM, [
    opts.limit,
    opts.endpoints,
    opts.leaseMs,
  ]);
  return rows;
}
