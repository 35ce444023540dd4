/**
 * Set-based writes of reconcile results: the worker collects results for a few ms and writes
 * each kind with one UPDATE … FROM unnest(…), rows sorted by call_id so concurrent statements
 * lock rows in the same order. Each item learns whether its row was written.
 */
import type pg from "pg";

import { isTransactionConflict } from "../pgErrors.js";
import type { DetailValues, Discrepancies, JsonObject } from "../../reconcile/detail.js";
import type { SkipReason } from "./reconcileSchedule.js";

/** The `calls` columns the detail speaks for (null = keep what the receipts said). */
export type DetailColumns = DetailValues;

export type ReconcileWrite =
  /** Detail found (or re-applied): authoritative columns, detail, discrepancies. */
  | {
      kind: "reconciled";
      callId: string;
      /** Written only if updated_at still has this value (µs); else re-read and recompute. */
      version: string;
      prodId: string;
      detail: JsonObject;
      discrepancies: Discrepancies;
      columns: DetailColumns;
      /** 1 when this was a query round, 0 for a re-apply of the stored detail. */
      attemptIncrement: number;
    }
  /** Every ProdId answered empty: ask again in `delayMs`. */
  | { kind: "retry"; callId: string; attempts: number; delayMs: number }
  /** Given up: the receipt data stays as it is. */
  | { kind: "not_found"; callId: string; attempts: number }
  /** Put back without an attempt (throttling, 5xx, refusal): only the due time moves. */
  | { kind: "deferred"; callId: string; delayMs: number }
  /** Never queried, for `reason` (see SkipReason). */
  | { kind: "skipped"; callId: string; reason: SkipReason };

const byCallId = <T extends { callId: string }>(rows: T[]) =>
  rows.sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));

const RECONCILED = `
update calls c set
  status_code = coalesce(u.status_code, c.status_code),
  status_msg = coalesce(u.status_msg, c.status_msg),
  start_time = coalesce(u.start_time, c.start_time),
  end_time = coalesce(u.end_time, c.end_time),
  ring_time = coalesce(c.ring_time, u.ring_time),
  duration_seconds = coalesce(u.duration_seconds, c.duration_seconds),
  caller = coalesce(u.caller, c.caller),
  callee = coalesce(u.callee, c.callee),
  hangup_direction = coalesce(u.hangup_direction, c.hangup_direction),
  detail = u.detail,
  discrepancies = u.discrepancies,
  prod_id = u.prod_id,
  reconcile_attempts = c.reconcile_attempts + u.attempt_increment,
  reconcile_status = 'reconciled',
  reconcile_due_at = null,
  reconciled_at = now(),
  updated_at = now()
from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
            $7::timestamptz[], $8::int[], $9::text[], $10::text[], $11::text[], $12::jsonb[],
            $13::jsonb[], $14::text[], $15::int[])
  as u(call_id, version, status_code, status_msg, start_time, end_time, ring_time, duration_seconds,
       caller, callee, hangup_direction, detail, discrepancies, prod_id, attempt_increment)
where c.call_id = u.call_id
  and (extract(epoch from c.updated_at) * 1000000)::bigint = u.version
  and c.reconcile_status in ('pending', 'reconciled')
returning c.call_id as "callId"`;

async function writeReconciled(
  pool: pg.Pool,
  rows: Extract<ReconcileWrite, { kind: "reconciled" }>[],
): Promise<Set<string>> {
  const col = <K extends keyof DetailColumns>(k: K) => rows.map((r) => r.columns[k]);
  const { rows: done } = await pool.query<{ callId: string }>({
    name: "reconcile-write-reconciled",
    text: RECONCILED,
    values: [
      rows.map((r) => r.callId),
      rows.map((r) => r.version),
      col("statusCode"),
      col("statusMsg"),
      col("startTime"),
      col("endTime"),
      col("ringTime"),
      col("durationSeconds"),
      col("caller"),
      col("callee"),
      col("hangupDirection"),
      rows.map((r) => JSON.stringify(r.detail)),
      rows.map((r) => JSON.stringify(r.discrepancies)),
      rows.map((r) => r.prodId),
      rows.map((r) => r.attemptIncrement),
    ],
  });
  return new Set(done.map((r) => r.callId));
}

async function writeSimple(
  pool: pg.Pool,
  kind: "retry" | "not_found" | "deferred" | "skipped",
  rows: ReconcileWrite[],
): Promise<Set<string>> {
  const ids = rows.map((r) => r.callId);
  const attempts = rows.map((r) => ("attempts" in r ? r.attempts : 0));
  const delays = rows.map((r) => ("delayMs" in r ? r.delayMs : 0));
  const reasons = rows.map((r) => ("reason" in r ? r.reason : null));
  const statements = {
    retry: {
      text: `update calls c set reconcile_attempts = u.attempts,
                    reconcile_due_at = now() + u.delay_ms * interval '1 millisecond'
               from unnest($1::text[], $2::int[], $3::float8[]) as u(call_id, attempts, delay_ms)
              where c.call_id = u.call_id and c.reconcile_status = 'pending'
             returning c.call_id as "callId"`,
      values: [ids, attempts, delays],
    },
    not_found: {
      text: `update calls c set reconcile_status = 'not_found', reconcile_attempts = u.attempts,
                    reconcile_due_at = null, updated_at = now()
               from unnest($1::text[], $2::int[]) as u(call_id, attempts)
              where c.call_id = u.call_id and c.reconcile_status = 'pending'
             returning c.call_id as "callId"`,
      values: [ids, attempts],
    },
    deferred: {
      text: `update calls c set reconcile_due_at = now() + u.delay_ms * interval '1 millisecond'
               from unnest($1::text[], $2::float8[]) as u(call_id, delay_ms)
              where c.call_id = u.call_id and c.reconcile_status in ('pending', 'reconciled')
             returning c.call_id as "callId"`,
      values: [ids, delays],
    },
    skipped: {
      text: `update calls c set reconcile_status = 'skipped', reconcile_due_at = null,
                    reconcile_skip_reason = u.reason
               from unnest($1::text[], $2::text[]) as u(call_id, reason)
              where c.call_id = u.call_id and c.reconcile_status = 'pending'
             returning c.call_id as "callId"`,
      values: [ids, reasons],
    },
  } as const;
  const s = statements[kind];
  const { rows: done } = await pool.query<{ callId: string }>({
    name: `reconcile-write-${kind}`,
    text: s.text,
    values: [...s.values],
  });
  return new Set(done.map((r) => r.callId));
}

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3 || !isTransactionConflict(err)) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
}

/** Write a batch of results; returns, per item in order, whether its row was written. */
export async function writeResults(pool: pg.Pool, items: ReconcileWrite[]): Promise<boolean[]> {
  const groups = new Map<ReconcileWrite["kind"], ReconcileWrite[]>();
  for (const item of items) {
    const list = groups.get(item.kind) ?? [];
    list.push(item);
    groups.set(item.kind, list);
  }
  const written = new Set<string>();
  const key = (kind: string, callId: string) => `${kind}\u0000${callId}`;
  for (const [kind, list] of groups) {
    byCallId(list);
    const done = await withRetry(() =>
      kind === "reconciled"
        ? writeReconciled(pool, list as Extract<ReconcileWrite, { kind: "reconciled" }>[])
        : writeSimple(pool, kind, list),
    );
    for (const id of done) {
      written.add(key(kind, id));
    }
  }
  return items.map((i) => written.has(key(i.kind, i.callId)));
}
