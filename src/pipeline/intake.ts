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
 */
import { normalizeReceipt } from "../domain/receipt.js";
import { StorageUnavailableError, coerceError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../ops/metrics.js";
import {
  insertReceipts,
  insertRejected,
  type ReceiptRow,
  type ReceiptSource,
  type RejectedRow,
} from "../store/receiptsStore.js";
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
}

/** Per-batch outcome; each count is final once the promise resolves. */
export interface IntakeResult {
  /** New receipts, now durable and queued. */
  accepted: number;
  /** Already received before (any source); nothing new happens. */
  duplicates: number;
  /** Invalid items, kept in rejected_receipts with their reason. */
  rejected: number;
  receiptIds: number[];
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
}

/** jsonb cannot store U+0000; such a receipt could never be written, so it is quarantined. */
function hasNul(json: string): boolean {
  return json.includes("\\u0000");
}

export function createIntake(deps: IntakeDeps): Intake {
  const { pool, queues, metrics } = deps;

  async function reject(rows: readonly RejectedRow[]): Promise<void> {
    try {
      await insertRejected(pool, rows);
    } catch (err) {
      throw new StorageUnavailableError("postgres", { cause: coerceError(err) });
    }
  }

  return {
    reject,
    async accept({ source, messageType, items }) {
      const valid = new Map<string, ReceiptRow>();
      const rejected: RejectedRow[] = [];
      let duplicatesInBatch = 0;
      for (const item of items) {
        const result = normalizeReceipt(messageType, item.raw);
        const bodyJson = JSON.stringify(item.raw) ?? String(item.raw);
        if (!result.ok || hasNul(bodyJson)) {
          rejected.push({
            source,
            messageType,
            raw: bodyJson,
            reason: result.ok
              ? "contains a NUL character (\\u0000), which PostgreSQL cannot store"
              : result.reason,
            location: item.location ?? null,
          });
          continue;
        }
        const r = result.receipt;
        if (valid.has(r.dedupKey)) {
          duplicatesInBatch++;
          continue;
        }
        valid.set(r.dedupKey, {
          dedupKey: r.dedupKey,
          messageType: r.messageType,
          source,
          callId: r.callId,
          outId: r.outId,
          statusCode: r.statusCode,
          eventTime: r.eventTime,
          bodyJson,
        });
      }

      if (rejected.length > 0) {
        await reject(rejected);
      }
      let inserted;
      try {
        inserted = await insertReceipts(pool, [...valid.values()]);
      } catch (err) {
        throw new StorageUnavailableError("postgres", { cause: coerceError(err) });
      }
      const receiptIds = inserted.map((r) => r.id);
      try {
        await queues.enqueuePersist(receiptIds);
      } catch (err) {
        throw new StorageUnavailableError("redis", { cause: coerceError(err) });
      }

      const accepted = inserted.filter((r) => r.inserted).length;
      const duplicates = valid.size - accepted + duplicatesInBatch;
      metrics.receipts.inc({ source, type: messageType, outcome: "accepted" }, accepted);
      metrics.receipts.inc({ source, type: messageType, outcome: "duplicate" }, duplicates);
      metrics.receipts.inc({ source, type: messageType, outcome: "rejected" }, rejected.length);
      return { accepted, duplicates, rejected: rejected.length, receiptIds };
    },
  };
}
