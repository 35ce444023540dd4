/**
 * The reconciler's SQL over `calls`: scheduling (which calls need a job), reading a call, and
 * set-based writes of results. Kept apart from src/store/callsStore.ts, which the receipt path
 * owns; the two meet only through these rules:
 *   - receipts never override columns once reconcile_status = 'reconciled', and every receipt
 *     sets updated_at, so `updated_at > reconciled_at` means "changed since reconciled";
 *   - the reconciler sets reconciled_at = updated_at = now() in the statement that reconciles.
 *     (A receipt transaction that started before ours and commits after it stamps an older
 *     now() and goes unnoticed; its values still land by the receipt rules, only a
 *     disagreement it carries is not recorded. The window is one receipt transaction.)
 * Scheduling statements lock with SKIP LOCKED so any number of workers can run them at once
 * without scheduling a call twice or waiting on each other.
 */
import type pg from "pg";

import type { CallTimes } from "../../reconcile/policy.js";

/** A call that got (or needs) a job; `delayMs` until it is due, by PostgreSQL's clock. */
export interface Scheduled {
  callId: string;
  delayMs: number;
}

const RETURNING = `returning c.call_id as "callId",
  greatest(0, extract(epoch from (c.reconcile_due_at - now())) * 1000)::float8 as "delayMs"`;

/**
 * Why a call ended `skipped` (calls.reconcile_skip_reason): `policy` (VMS_RECONCILE_POLICY left
 * it out), `off` (VMS_RECONCILE=off or no credentials), `replay` (replay --no-reconcile),
 * `inbound` (no CallId the detail API knows).
 */
export type SkipReason = "policy" | "off" | "replay" | "inbound";

/** Pending calls that will never be queried: all of them when reconcile is off, else inbound ones. */
export async function markSkipped(
  pool: pg.Pool,
  opts: { onlyInbound: boolean; limit: number },
): Promise<number> {
  const { rowCount } = await pool.query({
    name: `reconcile-skip-${opts.onlyInbound ? "inbound" : "all"}`,
    text: `update calls c set reconcile_status = 'skipped', reconcile_due_at = null,
                  reconcile_skip_reason = case when c.direction = 'inbound' then 'inbound'
                                               else 'off' end
             from (select call_id from calls
                    where reconcile_status = 'pending'
                      ${opts.onlyInbound ? "and reconcile_due_at is null and direction = 'inbound'" : ""}
                    limit $1 for update skip locked) p
            where c.call_id = p.call_id`,
    values: [opts.limit],
  });
  return rowCount ?? 0;
}

/**
 * Pending calls without a job: due `delayMs` after the call ended (end_time of the VoiceReport,
 * else the last VoiceCallReport event, else now). reconcile_due_at marks them scheduled.
 */
export async function scheduleNew(
  pool: pg.Pool,
  delayMs: number,
  limit: number,
): Promise<Scheduled[]> {
  const { rows } = await pool.query<Scheduled>({
    name: "reconcile-schedule-new",
    text: `update calls c
              set reconcile_due_at = greatest(now(), coalesce(c.end_time, c.last_event_time, now())
                                                     + $1 * interval '1 millisecond')
             from (select call_id from calls
                    where reconcile_status = 'pending' and reconcile_due_at is null
                      and direction = 'outbound'
                    limit $2 for update skip locked) p
            where c.call_id = p.call_id
            ${RETURNING}`,
    values: [delayMs, limit],
  });
  return rows;
}

/** Reconciled calls a newer receipt changed since: due now (no API call is needed for them). */
export async function scheduleChanged(pool: pg.Pool, limit: number): Promise<Scheduled[]> {
  const { rows } = await pool.query<Scheduled>({
    name: "reconcile-schedule-changed",
    text: `update calls c set reconcile_due_at = now()
             from (select call_id from calls
                    where reconcile_status = 'reconciled' and updated_at > reconciled_at
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
                      and (reconcile_status = 'pending'
                           or (reconcile_status = 'reconciled' and updated_at > reconciled_at))
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
    text: `update calls set reconcile_status = 'skipped', reconcile_skip_reason = 'policy',
                  reconcile_due_at = null
            where call_id = any($1::text[]) and reconcile_status = 'pending'`,
    values: [callIds],
  });
  return rowCount ?? 0;
}

/** Undo scheduling when the enqueue failed, so the next scan schedules them again. */
export async function unschedule(pool: pg.Pool, callIds: string[]): Promise<void> {
  await pool.query(
    `update calls set reconcile_due_at = null
      where call_id = any($1::text[]) and reconcile_status in ('pending', 'reconciled')`,
    [callIds],
  );
}

/** What the worker needs to know about a call. */
export interface CallSnapshot extends CallTimes {
  callId: string;
  direction: "outbound" | "inbound";
  outId: string | null;
  caller: string | null;
  callee: string | null;
  statusCode: string | null;
  statusMsg: string | null;
  durationSeconds: number | null;
  hangupDirection: string | null;
  reconcileStatus: "pending" | "reconciled" | "not_found" | "skipped";
  reconcileAttempts: number;
  /** A VoiceReport (the CDR) has been received. */
  hasReport: boolean;
  prodId: string | null;
  detail: unknown;
  discrepancies: unknown;
  /** updated_at in µs: the optimistic-concurrency token of the reconciled write. */
  version: string;
  /** Reconciled, then changed by a newer receipt. */
  changed: boolean;
  /** ms until reconcile_due_at (negative when overdue), null when not scheduled. */
  dueInMs: number | null;
}

export async function loadCalls(pool: pg.Pool, callIds: string[]): Promise<CallSnapshot[]> {
  const { rows } = await pool.query<CallSnapshot>({
    name: "reconcile-load",
    text: `select call_id as "callId", direction, out_id as "outId", caller, callee,
                  status_code as "statusCode", status_msg as "statusMsg",
                  duration_seconds as "durationSeconds", hangup_direction as "hangupDirection",
                  originate_time as "originateTime", ring_time as "ringTime",
                  start_time as "startTime", end_time as "endTime",
                  last_event_time as "lastEventTime", created_at as "createdAt",
                  reconcile_status as "reconcileStatus", reconcile_attempts as "reconcileAttempts",
                  report_received_at is not null as "hasReport",
                  prod_id as "prodId", detail, discrepancies,
                  (extract(epoch from updated_at) * 1000000)::bigint::text as version,
                  coalesce(updated_at > reconciled_at, false) as changed,
                  (extract(epoch from (reconcile_due_at - now())) * 1000)::float8 as "dueInMs"
             from calls where call_id = any($1::text[])`,
    values: [callIds],
  });
  return rows;
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
