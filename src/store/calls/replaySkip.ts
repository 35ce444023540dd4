/**
 * `replay --no-reconcile`: calls created `skipped` (reason `replay`) before their receipts are
 * durable, so no reconciler ever sees them `pending` (src/replay/noReconcile.ts says why). A
 * call already `pending` is switched to `skipped`; `reconciled` and `not_found` stay as they
 * are. The receipts' upsert fills the other columns later and never changes reconcile_status.
 */
import type pg from "pg";

import type { Direction } from "../../domain/receipt.js";
import { skipReason, status } from "./columns.js";

/** Returns how many calls were inserted or switched to 'skipped'. */
export async function insertSkippedCalls(
  pool: pg.Pool,
  calls: ReadonlyMap<string, Direction>,
): Promise<number> {
  // Sorted like the receipts' upserts, so concurrent batches lock calls rows in the same order.
  const ids = [...calls.keys()].sort();
  const res = await pool.query(
    `insert into calls (call_id, direction, reconcile_status, reconcile_skip_reason)
     select u.call_id, u.direction, ${status("skipped")}, ${skipReason("replay")}
       from unnest($1::text[], $2::text[]) as u(call_id, direction)
     on conflict (call_id) do update
       set reconcile_status = ${status("skipped")}, reconcile_skip_reason = ${skipReason("replay")}, updated_at = now()
       where calls.reconcile_status = ${status("pending")}`,
    [ids, ids.map((id) => calls.get(id))],
  );
  return res.rowCount ?? 0;
}
