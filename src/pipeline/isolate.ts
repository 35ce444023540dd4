/**
 * Isolation of what PostgreSQL refuses. Validation (src/domain) refuses what it knows PostgreSQL
 * would; whatever still slips through must fail only itself. `isolate` applies a batch and, when
 * PostgreSQL refuses it because of the data (not because it is unavailable), bisects it to find
 * the culprit(s), so every other item is applied in O(k·log n) statements for k culprits.
 * `applyIsolated` does this for the persist workers' (and replay --apply's) transactions and
 * dead-letters each culprit with PostgreSQL's message and SQLSTATE, so the sweeper never offers
 * it again (it is processed) and never regroups it with innocent receipts.
 */
import type pg from "pg";

import { isDataError } from "../store/pgErrors.js";
import { deadLetterReceipts } from "../store/receipts/deadLetter.js";
import { applyReceipts, type PersistResult } from "./persist.js";

/** `PostgreSQL refused it: <message> (SQLSTATE <code>)`, the reason a culprit is kept with. */
export function refusalReason(err: Error & { code: string }): string {
  return `PostgreSQL refused it: ${err.message} (SQLSTATE ${err.code})`;
}

export interface Isolated<T, R> {
  results: R[];
  culprits: { item: T; error: Error & { code: string } }[];
}

/**
 * Applies `items` with `apply`; on a data error, halves the batch and tries each half, down to
 * single items, which are the culprits. Any other error is thrown as is (unavailability).
 */
export async function isolate<T, R>(
  items: readonly T[],
  apply: (batch: readonly T[]) => Promise<R>,
): Promise<Isolated<T, R>> {
  const out: Isolated<T, R> = { results: [], culprits: [] };
  // An explicit work list (halves pushed in reverse, so items keep their order).
  const work: (readonly T[])[] = [items];
  for (let batch = work.pop(); batch !== undefined; batch = work.pop()) {
    if (batch.length === 0) {
      continue;
    }
    try {
      out.results.push(await apply(batch));
    } catch (err) {
      if (!isDataError(err)) {
        throw err;
      }
      if (batch.length === 1) {
        out.culprits.push({ item: batch[0] as T, error: err });
        continue;
      }
      const mid = Math.ceil(batch.length / 2);
      work.push(batch.slice(mid), batch.slice(0, mid));
    }
  }
  return out;
}

/** applyReceipts, with every receipt PostgreSQL refuses dead-lettered alone (see the header). */
export async function applyIsolated(
  pool: pg.Pool,
  receiptIds: readonly number[],
): Promise<PersistResult> {
  const { results, culprits } = await isolate(receiptIds, (ids) => applyReceipts(pool, ids));
  if (culprits.length > 0) {
    await deadLetterReceipts(
      pool,
      culprits.map((c) => ({ id: c.item, reason: refusalReason(c.error) })),
    );
  }
  const total: PersistResult = {
    applied: 0,
    deadLettered: culprits.length,
    skipped: 0,
    skippedIds: [],
    byType: new Map(),
  };
  for (const r of results) {
    total.applied += r.applied;
    total.deadLettered += r.deadLettered;
    total.skipped += r.skipped;
    total.skippedIds.push(...r.skippedIds);
    for (const [type, n] of r.byType) {
      total.byType.set(type, (total.byType.get(type) ?? 0) + n);
    }
  }
  return total;
}
