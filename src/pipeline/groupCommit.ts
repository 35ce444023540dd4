/**
 * The group committer of intake (intake.ts): batches that arrive while earlier INSERTs are still
 * running are written together — one INSERT, one commit, one addBulk — and each caller is
 * answered once that INSERT has committed and its jobs are queued. A group PostgreSQL refuses
 * because of a value in it is bisected down to the refused rows (isolate.ts).
 */
import { createBatcher } from "../infra/batcher.js";
import { StorageUnavailableError, coerceError } from "../errors.js";
import { isolate, refusalReason } from "./isolate.js";
import { insertReceipts, type InsertedReceipt, type ReceiptRow } from "../store/receipts/insert.js";
import type pg from "pg";
import type { PipelineQueues } from "./queues.js";

/** Receipt INSERTs running at once; batches arriving meanwhile wait and are grouped. */
export const INSERTS_IN_FLIGHT = 4;
/** Rows per grouped INSERT, at most (a batch larger than this still goes in one piece). */
export const GROUP_MAX_ROWS = 1000;

/** What one batch's rows became: inserted (or found unprocessed), or refused by PostgreSQL. */
export interface Written {
  inserted: InsertedReceipt[];
  /** dedupKey → PostgreSQL's refusal (message and SQLSTATE) of that row. */
  refused: Map<string, string>;
}

/**
 * The group committer: `write(rows)` resolves with the rows' outcome (as insertReceipts gives
 * it, in the same order) once they are committed in PostgreSQL AND queued in Redis; it rejects
 * with StorageUnavailableError naming which of the two failed. `rows` must be unique by
 * dedupKey; across concurrent callers a key is written once, and only its first caller sees it
 * as inserted.
 */
export function createGroupCommitter(pool: pg.Pool, queues: PipelineQueues, clock: () => Date) {
  type Outcome = ({ ok: true } & Written) | { ok: false; err: unknown };
  const batcher = createBatcher<ReceiptRow[], Outcome>({
    maxWeight: GROUP_MAX_ROWS,
    weigh: (rows) => rows.length,
    maxInFlight: INSERTS_IN_FLIGHT,
    run: (group) => commit(group),
  });

  async function commit(group: ReceiptRow[][]): Promise<Outcome[]> {
    // One row per dedup key across the group (a statement cannot touch a row twice).
    const unique = new Map<string, ReceiptRow>();
    for (const rows of group) {
      for (const r of rows) {
        if (!unique.has(r.dedupKey)) {
          unique.set(r.dedupKey, r);
        }
      }
    }
    let inserted: InsertedReceipt[];
    const refused = new Map<string, string>();
    try {
      // PostgreSQL refusing a value (validation missed it) fails only that row: the group is
      // bisected down to it (isolate.ts). Unreachable PostgreSQL throws at once: 503, fast.
      const arrived = clock();
      const isolated = await isolate([...unique.values()], (rows) =>
        insertReceipts(pool, rows, arrived),
      );
      inserted = isolated.results.flat();
      for (const c of isolated.culprits) {
        refused.set(c.item.dedupKey, refusalReason(c.error));
      }
    } catch (err) {
      const cause = coerceError(err);
      return group.map(() => ({
        ok: false,
        err: new StorageUnavailableError("postgres", { cause }),
      }));
    }
    try {
      await queues.enqueuePersist(inserted.map((r) => r.id));
    } catch (err) {
      const cause = coerceError(err);
      return group.map(() => ({ ok: false, err: new StorageUnavailableError("redis", { cause }) }));
    }
    const byKey = new Map(inserted.map((r) => [r.dedupKey, r]));
    return group.map((rows) => {
      const out: InsertedReceipt[] = [];
      for (const r of rows) {
        const row = byKey.get(r.dedupKey);
        if (row) {
          out.push(row);
          // A later caller in the same group with the same key gets it as a duplicate.
          if (row.inserted) {
            byKey.set(r.dedupKey, { ...row, inserted: false });
          }
        }
      }
      return { ok: true, inserted: out, refused };
    });
  }

  return {
    async write(rows: ReceiptRow[]): Promise<Written> {
      if (rows.length === 0) {
        return { inserted: [], refused: new Map() };
      }
      const outcome = await batcher.add(rows);
      if (!outcome.ok) {
        throw outcome.err;
      }
      return outcome;
    },
  };
}
