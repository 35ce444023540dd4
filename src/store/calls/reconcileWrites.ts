/**
 * Set-based writes of reconcile results: the worker collects results for a few ms and writes
 * each kind with one UPDATE … FROM unnest(…), rows sorted by call_id so concurrent statements
 * lock rows in the same order. Each item learns whether its row was written. The detail's
 * columns are written by their DetailRule (columns.ts).
 */
import type pg from "pg";

import { sleep } from "../../infra/sleep.js";
import { byCallId } from "../lockOrder.js";
import type { JsonObject } from "../../domain/json.js";
import { emitReconcileOutcomes } from "../events/callEvents.js";
import { isTransactionConflict } from "../pgErrors.js";
import { inTransaction } from "../transaction.js";
import { DETAIL_FIELDS, status, type DetailColumns, type SkipReason } from "./columns.js";

export type ReconcileWrite =
  /** Detail found (or re-applied): authoritative columns, detail, discrepancies. */
  | {
      kind: "reconciled";
      callId: string;
      /** Written only if updated_at still has this value (µs); else re-read and recompute. */
      version: string;
      prodId: string;
      detail: JsonObject;
      /** Per column, what the receipt and the detail said (stored as jsonb). */
      discrepancies: JsonObject;
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

/** The detail's columns as unnest reads them: $3 onwards ($1 call ids, $2 versions). */
const DETAIL_PARAMS = DETAIL_FIELDS.map((c, i) => ({ ...c, param: `$${i + 3}::${c.type}[]` }));
const n = DETAIL_PARAMS.length;

const DETAIL_COLUMNS = DETAIL_PARAMS.map((c) => c.column);

// Outcome events: \`old\` holds the detail's columns as they were (rows locked in call_id
// order, like every writer of calls), so the statement says whether the detail changed any of
// them: call.reconciled's \`changed\`.
const RECONCILED = `
with old as (
  select call_id, ${DETAIL_COLUMNS.join(", ")}
    from calls where call_id = any($1::text[]) order by call_id for update)
update calls c set
  ${DETAIL_PARAMS.map(({ column: col, detail }) =>
    detail === "detail"
      ? `${col} = coalesce(u.${col}, c.${col})`
      : `${col} = coalesce(c.${col}, u.${col})`,
  ).join(",\n  ")},
  detail = u.detail,
  discrepancies = u.discrepancies,
  prod_id = u.prod_id,
  reconcile_attempts = c.reconcile_attempts + u.attempt_increment,
  reconcile_status = ${status("reconciled")},
  reconcile_due_at = null,
  reconciled_at = now(),
  updated_at = now()
from unnest($1::text[], $2::bigint[], ${DETAIL_PARAMS.map((c) => c.param).join(", ")},
            $${n + 3}::jsonb[], $${n + 4}::jsonb[], $${n + 5}::text[], $${n + 6}::int[])
  as u(call_id, version, ${DETAIL_PARAMS.map((c) => c.column).join(", ")},
       detail, discrepancies, prod_id, attempt_increment),
  old o
where c.call_id = u.call_id and o.call_id = c.call_id
  and (extract(epoch from c.updated_at) * 1000000)::bigint = u.version
  and c.reconcile_status in (${status("pending", "reconciled")})
returning c.call_id as "callId",
  row(${DETAIL_COLUMNS.map((col) => `c.${col}`).join(", ")})
    is distinct from row(${DETAIL_COLUMNS.map((col) => `o.${col}`).join(", ")}) as changed`;

async function writeReconciled(
  pool: pg.Pool,
  rows: Extract<ReconcileWrite, { kind: "reconciled" }>[],
): Promise<Set<string>> {
  return inTransaction(pool, async (client) => {
    const { rows: done } = await client.query<{ callId: string; changed: boolean }>({
      name: "reconcile-write-reconciled",
      text: RECONCILED,
      values: [
        rows.map((r) => r.callId),
        rows.map((r) => r.version),
        ...DETAIL_PARAMS.map(({ key }) => rows.map((r) => r.columns[key])),
        rows.map((r) => JSON.stringify(r.detail)),
        rows.map((r) => JSON.stringify(r.discrepancies)),
        rows.map((r) => r.prodId),
        rows.map((r) => r.attemptIncrement),
      ],
    });
    // Outcome events, in this transaction (README "Deliver outcomes to your systems").
    await emitReconcileOutcomes(client, "call.reconciled", done);
    return new Set(done.map((r) => r.callId));
  });
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
              where c.call_id = u.call_id and c.reconcile_status = ${status("pending")}
             returning c.call_id as "callId"`,
      values: [ids, attempts, delays],
    },
    not_found: {
      text: `update calls c set reconcile_status = ${status("not_found")}, reconcile_attempts = u.attempts,
                    reconcile_due_at = null, updated_at = now()
               from unnest($1::text[], $2::int[]) as u(call_id, attempts)
              where c.call_id = u.call_id and c.reconcile_status = ${status("pending")}
             returning c.call_id as "callId"`,
      values: [ids, attempts],
    },
    deferred: {
      text: `update calls c set reconcile_due_at = now() + u.delay_ms * interval '1 millisecond'
               from unnest($1::text[], $2::float8[]) as u(call_id, delay_ms)
              where c.call_id = u.call_id and c.reconcile_status in (${status("pending", "reconciled")})
             returning c.call_id as "callId"`,
      values: [ids, delays],
    },
    skipped: {
      text: `update calls c set reconcile_status = ${status("skipped")}, reconcile_due_at = null,
                    reconcile_skip_reason = u.reason
               from unnest($1::text[], $2::text[]) as u(call_id, reason)
              where c.call_id = u.call_id and c.reconcile_status = ${status("pending")}
             returning c.call_id as "callId"`,
      values: [ids, reasons],
    },
  } as const;
  const s = statements[kind];
  const write = async (db: pg.Pool | pg.PoolClient) =>
    (
      await db.query<{ callId: string }>({
        name: `reconcile-write-${kind}`,
        text: s.text,
        values: [...s.values],
      })
    ).rows;
  if (kind !== "not_found") {
    return new Set((await write(pool)).map((r) => r.callId));
  }
  // call.not_found, in the transaction that gives up.
  return inTransaction(pool, async (client) => {
    const done = await write(client);
    await emitReconcileOutcomes(client, "call.not_found", done);
    return new Set(done.map((r) => r.callId));
  });
}

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3 || !isTransactionConflict(err)) {
        throw err;
      }
      await sleep(10 + Math.random() * 40);
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
    list.sort(byCallId);
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
