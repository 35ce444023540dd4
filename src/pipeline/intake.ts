/**
 * Intake: the one path by which receipts from every source (HTTP push, MNS, replay) become
 * durable. Normalise → quarantine the invalid → insert into `receipts` (PostgreSQL, durable)
 * → enqueue a persist job. Only when this resolves may the source acknowledge (HTTP 200, MNS
 * delete).
 *
 * Why PostgreSQL first and not Redis alone: the Redis we are given may keep nothing on disk
 * (no AOF), and an acknowledgement must never rest on a write that a Redis restart loses.
 * The receipts table is the durable inbox; BullMQ carries only receipt ids, and the sweeper
 * re-enqueues anything durable but unprocessed, so a lost Redis job delays a receipt, never
 * loses it.
 *
 * Group commit: batches that arrive while earlier INSERTs are still running (concurrent pushes,
 * MNS pollers) are written together — one INSERT, one commit, one addBulk for all of them — and
 * each caller is answered only once that INSERT has committed and its jobs are queued. The
 * first batch after a quiet spell goes alone at once, so batching costs no latency when idle.
 * If PostgreSQL refuses a shared INSERT because of a value in it (SQLSTATE class 22/23/54), the
 * group is bisected down to the refused rows (isolate.ts), which are quarantined with
 * PostgreSQL's message and SQLSTATE; every other row is stored and acknowledged.
 */
import { rejectedText } from "../domain/json.js";
import { normalizeReceipt } from "../domain/receipt.js";
import { createBatcher } from "../infra/batcher.js";
import { StorageUnavailableError, coerceError } from "../errors.js";
import { bodyText, elementText } from "./bodies.js";
import { isolate, refusalReason } from "./isolate.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../ops/metrics.js";
import {
  insertReceipts,
  type ArrayElement,
  type InsertedReceipt,
  type ReceiptRow,
  type ReceiptSource,
} from "../store/receipts/insert.js";
import { insertRejected, type RejectedRow } from "../store/rejectedReceipts/insert.js";
import type pg from "pg";
import type { PipelineQueues } from "./queues.js";

export interface IntakeItem {
  /** The receipt as parsed from JSON (anything: validation happens here). */
  raw: unknown;
  /** Where it came from, kept with a rejection: `file:line`, queue name, route. */
  location?: string;
}

export interface IntakeBatch {
  source: ReceiptSource;
  messageType: string;
  items: readonly IntakeItem[];
  /**
   * UTF-8 bytes of the JSON array whose elements `items` are, in order (an HTTP push body): when
   * every item validates, bodies are stored from these bytes instead of serialised again.
   */
  array?: Buffer | undefined;
}

/** Per-batch outcome; each count is final once the promise resolves. */
export interface IntakeResult {
  /** New receipts, now durable and queued. */
  accepted: number;
  /** Already received before (any source); nothing new happens. */
  duplicates: number;
  /** Invalid items, kept in rejected_receipts with their reason. */
  rejected: number;
  /** Every valid receipt's id, new or already stored (all of them are queued). */
  receiptIds: number[];
  /** The ids of the new receipts only (`accepted` of them), for callers that count. */
  newReceiptIds: number[];
}

export interface Intake {
  accept(batch: IntakeBatch): Promise<IntakeResult>;
  /** Quarantine input that is not even a receipt (bad JSON body, undecodable MNS message). */
  reject(rows: readonly RejectedRow[]): Promise<void>;
}

export interface IntakeDeps {
  pool: pg.Pool;
  queues: PipelineQueues;
  metrics: Metrics;
  logger: Logger;
  /**
   * Arrival time, the receipt_time (partition) of receipts without a time of their own; tests
   * set it to deliver across a month boundary.
   */
  clock?: () => Date;
}

export { unstorableJson } from "./bodies.js";

/** Receipt INSERTs running at once; batches arriving meanwhile wait and are grouped. */
export const INSERTS_IN_FLIGHT = 4;
/** Rows per grouped INSERT, at most (a batch larger than this still goes in one piece). */
export const GROUP_MAX_ROWS = 1000;

/** What one batch's rows became: inserted (or found unprocessed), or refused by PostgreSQL. */
interface Written {
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
function createGroupCommitter(pool: pg.Pool, queues: PipelineQueues, clock: () => Date) {
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

export function createIntake(deps: IntakeDeps): Intake {
  const { pool, queues, metrics } = deps;
  const committer = createGroupCommitter(pool, queues, deps.clock ?? (() => new Date()));

  async function reject(rows: readonly RejectedRow[]): Promise<void> {
    try {
      await insertRejected(pool, rows);
    } catch (err) {
      throw new StorageUnavailableError("postgres", { cause: coerceError(err) });
    }
  }

  return {
    reject,
    async accept({ source, messageType, items, array }) {
      const valid = new Map<string, ReceiptRow>();
      const rejected: RejectedRow[] = [];
      const locations = new Map<string, string | null>();
      // The parsed items of the valid rows, while their JSON text may still be needed.
      const raws = new Map<string, unknown>();
      let duplicatesInBatch = 0;
      for (const [index, item] of items.entries()) {
        const result = normalizeReceipt(messageType, item.raw);
        const body = result.ok && array === undefined ? bodyText(item.raw) : null;
        if (!result.ok || (body?.unstorable ?? null) !== null) {
          rejected.push({
            source,
            messageType,
            raw: body?.json ?? rejectedText(item.raw),
            reason: result.ok ? (body?.unstorable as string) : result.reason,
            location: item.location ?? null,
          });
          continue;
        }
        const r = result.receipt;
        if (valid.has(r.dedupKey)) {
          duplicatesInBatch++;
          continue;
        }
        locations.set(r.dedupKey, item.location ?? null);
        if (array !== undefined) {
          raws.set(r.dedupKey, item.raw);
        }
        valid.set(r.dedupKey, {
          dedupKey: r.dedupKey,
          messageType: r.messageType,
          source,
          callId: r.callId,
          outId: r.outId,
          statusCode: r.statusCode,
          eventTime: r.eventTime,
          bodyJson: body?.json ?? null,
          element: array === undefined ? undefined : { array, index },
        });
      }
      // PostgreSQL parses a push body's array whole, refused elements included: with one of
      // those in it, the valid receipts go as their own JSON text, each standing alone.
      if (array !== undefined && rejected.length > 0) {
        for (const [key, row] of valid) {
          const body = bodyText(raws.get(key));
          if (body.unstorable !== null) {
            valid.delete(key);
            const location = locations.get(key) ?? null;
            rejected.push({ source, messageType, raw: body.json, reason: body.unstorable, location });
          } else {
            row.bodyJson = body.json;
            row.element = undefined;
          }
        }
      }
      raws.clear();

      if (rejected.length > 0) {
        await reject(rejected);
      }
      const written = await committer.write([...valid.values()]);
      const { inserted } = written;
      const refused = new Map(written.refused); // the group's map, shared with other callers
      // A refused row whose body went as part of its push's array: the array as a whole may be
      // what PostgreSQL refused, so each such row is tried once more alone, as its own text.
      const retry = [...refused.keys()]
        .map((key) => valid.get(key))
        .filter((row): row is ReceiptRow => row?.element !== undefined && row.bodyJson === null);
      if (retry.length > 0) {
        for (const row of retry) {
          refused.delete(row.dedupKey);
          row.bodyJson = elementText(row.element as ArrayElement);
          row.element = undefined;
        }
        const again = await committer.write(retry);
        inserted.push(...again.inserted);
        for (const [key, reason] of again.refused) {
          refused.set(key, reason);
        }
      }
      const receiptIds = inserted.map((r) => r.id);
      // Rows PostgreSQL refused although they passed validation: quarantined with its reason.
      const refusedRows: RejectedRow[] = [];
      for (const [key, reason] of refused) {
        const row = valid.get(key);
        if (row && row.source === source) {
          refusedRows.push({
            source,
            messageType,
            raw: row.bodyJson ?? "null",
            reason,
            location: locations.get(key) ?? null,
          });
        }
      }
      if (refusedRows.length > 0) {
        await reject(refusedRows);
        rejected.push(...refusedRows);
      }
      const newReceiptIds = inserted.filter((r) => r.inserted).map((r) => r.id);

      const accepted = inserted.filter((r) => r.inserted).length;
      const duplicates = valid.size - refusedRows.length - accepted + duplicatesInBatch;
      metrics.receipts.inc({ source, type: messageType, outcome: "accepted" }, accepted);
      metrics.receipts.inc({ source, type: messageType, outcome: "duplicate" }, duplicates);
      metrics.receipts.inc({ source, type: messageType, outcome: "rejected" }, rejected.length);
      return { accepted, duplicates, rejected: rejected.length, receiptIds, newReceiptIds };
    },
  };
}
