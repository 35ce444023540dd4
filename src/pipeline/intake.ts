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
 * PostgreSQL's message and SQLSTATE; every other row is stored and acknowledged (groupCommit.ts).
 */
import { rejectedText } from "../domain/json.js";
import { normalizeReceipt } from "../domain/receipt.js";
import { StorageUnavailableError, coerceError } from "../errors.js";
import { bodyText, elementText } from "./bodies.js";
import { createGroupCommitter } from "./groupCommit.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { ArrayElement, ReceiptRow, ReceiptSource } from "../store/receipts/insert.js";
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
export { GROUP_MAX_ROWS, INSERTS_IN_FLIGHT } from "./groupCommit.js";

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
    // Not async: the items are sorted in a plain function, so no frame that waits for the INSERT
    // keeps the parsed receipts alive (an async frame keeps every local across its awaits).
    accept(batch) {
      try {
        return store(batch.source, batch.messageType, sortItems(batch));
      } catch (err) {
        return Promise.reject(coerceError(err));
      }
    },
  };

  /** Validation: each item becomes a row to insert, a duplicate within the batch, or a rejection. */
  function sortItems({ source, messageType, items, array }: IntakeBatch) {
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
          rejected.push({
            source,
            messageType,
            raw: body.json,
            reason: body.unstorable,
            location,
          });
        } else {
          row.bodyJson = body.json;
          row.element = undefined;
        }
      }
    }
    return { valid, rejected, locations, duplicatesInBatch };
  }

  async function store(
    source: ReceiptSource,
    messageType: string,
    sorted: ReturnType<typeof sortItems>,
  ): Promise<IntakeResult> {
    const { valid, rejected, locations, duplicatesInBatch } = sorted;
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
  }
}
