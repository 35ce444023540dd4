/**
 * The reconciler's scheduling over `calls`: which calls need a job, and when. The receipts and
 * the reconciler meet through the merge rule of columns.ts: `updated_at > reconciled_at` means
 * "changed since reconciled" (scheduleChanged). (A receipt transaction that started before the
 * reconciling one and commits after it stamps an older now() and goes unnoticed; its values
 * still land by the receipt rules, only a disagreement it carries is not recorded. The window
 * is one receipt transaction.)
 * Scheduling statements lock with SKIP LOCKED so any number of workers can run them at once
 * without scheduling a call twice or waiting on each other.
 */
import type pg from "pg";

import { skipReason, status } from "./columns.js";

/** A call that got (or needs) a job; `delayMs` until it is due, by PostgreSQL's clock. */
export interface Scheduled {
  callId: string;
  delayMs: number;
}

const RETURNING = `returning c.call_id as "callId",
  greatest(0, extract(epoch from (c.reconcile_due_at - now())) * 1000)::float8 as "delayMs"`;

/** Pending calls that will never be queried: all of them when reconcile is off, else inbound ones. */
export async function markSkipped(
  pool: pg.Pool,
  opts: { onlyInbound: boolean; limit: number },
): Promise<number> {
  const { rowCount } = await pool.query({
    name: `reconcile-skip-${opts.onlyInbound ? "inbound" : "all"}`,
    text: `update calls c set reconcile_status = ${status("skipped")}, reconcile_due_at = null,
                  reconcile_skip_reason = case when c.direction = 'inbound' then ${skipReason("inbound")}
                                               else ${skipReason("off")} end
             from (select call_id from calls
                    where reconcile_status = ${status("pending")}
                      ${opts.onlyInbound ? "and reconcile_due_at is null and direction = 'inbound'" : ""}
                    limit $1 for update skip locked) p
            where c.call_id = p.call_id`,
    values: [opts.limit],
  });
  return rowCount ?? 0;
}

/**
 * When new calls are first asked, after the call's end: `delayMs` (the learned first-query
 * delay, src/reconcile/lagEstimate.ts), except a random `baselineShare` of them at `baselineMs`
 * (VMS_RECONCILE_DELAY_SECONDS), whose answers keep measuring the lag.
 */
export interface FirstQueryDelay {
  delayMs: number;
  baselineMs: number;
  baselineShare: number;
}

/**
 * Pending calls without a job: due after the call ended (end_time of the VoiceReport, else the
 * last VoiceCallReport event, else now) by the FirstQueryDelay. reconcile_due_at marks them
 * scheduled.
 */
export async function scheduleNew(
  pool: pg.Pool,
  delay: FirstQueryDelay,
  limit: number,
): Promise<Scheduled[]> {
  const { rows } = await pool.query<Scheduled>({
    name: "reconcile-schedule-new",
    text: `update calls c
              set reconcile_due_at = greatest(now(), coalesce(c.end_time, c.last_event_time, now())
                    + (case when $1::float8 > $3::float8 and random() < $4::float8 then $3::float8
                            else $1::float8 end)
                      * interval '1 millisecond')
             from (select call_id from calls
                    where reconcile_status = ${status("pending")} and reconcile_due_at is null
                      and direction = 'outbound'
                    limit $2 for update skip locked) p
            where c.call_id = p.call_id
            ${RETURNING}`,
    values: [delay.delayMs, limit, delay.baselineMs, delay.baselineShare],
  });
  return rows;
}

/** Reconciled calls a newer receipt changed since: due now (no API call is needed for them). */
export async function scheduleChanged(pool: pg.Pool, limit: number): Promise<Scheduled[]> {
  const { rows } = await pool.query<Scheduled>({
    name: "reconcile-schedule-changed",
    text: `update calls c set reconcile_due_at = now()
             from (select call_id from calls
                    where reconcile_status = ${status("reconciled")} and updated_at > reconciled_at
                      and reconcile_due_at is null
                    limit $1 for update skip locked) p
            where c.call_id = p.call_id
            ${RETURNING}`,
    values: [limit],
  });
  return rows;
}

/**
 * Calls whose job should have run `graceMs` ago: the job was lost (Redis restarted without
 * AOF, a job failed for good, the enqueue after scheduling failed). Enqueuing them again is
 * harmless when the job still exists: the deterministic id makes the add a no-op.
 */
export async function recoverOverdue(
  pool: pg.Pool,
  graceMs: number,
  limit: number,
): Promise<Scheduled[]> {
  const { rows } = await pool.query<Scheduled>({
    name: "reconcile-recover",
    text: `update calls c set reconcile_due_at = now()
             from (select call_id from calls
                    where reconcile_due_at < now() - $1 * interval '1 millisecond'
                      and (reconcile_status = ${status("pending")}
                           or (reconcile_status = ${status("reconciled")} and updated_at > reconciled_at))
                    limit $2 for update skip locked) p
            where c.call_id = p.call_id
            ${RETURNING}`,
    values: [graceMs, limit],
  });
  return rows;
}

/**
 * Scheduled calls the sample policy leaves out: `skipped` (reason `policy`) at once instead of a
 * job that would only find that out when due. Only still-pending calls change.
 */
export async function markPolicySkipped(pool: pg.Pool, callIds: string[]): Promise<number> {
  const { rowCount } = await pool.query({
    name: "reconcile-skip-policy",
    text: `update calls set reconcile_status = ${status("skipped")}, reconcile_skip_reason = ${skipReason("policy")},
                  reconcile_due_at = null
            where call_id = any($1::text[]) and reconcile_status = ${status("pending")}`,
    values: [callIds],
  });
  return rowCount ?? 0;
}

/** Undo scheduling when the enqueue failed, so the next scan schedules them again. */
export async function unschedule(pool: pg.Pool, callIds: string[]): Promise<void> {
  await pool.query(
    `update calls set reconcile_due_at = null
      where call_id = any($1::text[]) and reconcile_status in (${status("pending", "reconciled")})`,
    [callIds],
  );
}
