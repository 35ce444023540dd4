/**
 * The receipts' side of applying them: lock a batch of unprocessed receipts, mark them
 * processed (in the batch statement, ../applyBatch.ts) or dead-lettered. Receipts are locked
 * with SKIP LOCKED and marked in the same transaction, so two workers (or a job and its sweep
 * duplicate) never apply the same receipt twice.
 */
import type pg from "pg";

import type { ReceiptSource } from "./insert.js";

export interface LockedReceipt {
  id: string;
  /** receipt_time as text: with the id, lets a row name its receipt's body (FromReceipt). */
  receipt_time: string;
  message_type: string;
  source: ReceiptSource;
  body: unknown;
}

/** The receipts among `ids` still unprocessed and not locked by another transaction, locked. */
export async function lockUnprocessed(
  client: pg.PoolClient,
  ids: readonly number[],
): Promise<LockedReceipt[]> {
  const { rows } = await client.query<LockedReceipt>({
    name: "lock-receipts",
    // By id alone (jobs carry ids): every partition's receipts_unprocessed_idx is probed, and
    // in a month whose receipts are all applied that index is empty.
    text: `select id, receipt_time::text as receipt_time, message_type, source, body from receipts
            where id = any($1::bigint[]) and processed_at is null
            order by id for update skip locked`,
    values: [ids],
  });
  return rows;
}

/**
 * A call_events or recordings row whose body is that of receipt `receiptId`; its receipt_time
 * (the partition key) lets the body be read from that one partition (run-time pruning).
 */
export type FromReceipt<R> = Omit<R, "body"> & { receiptId: number | string; receiptTime: string };

/** The body of a FromReceipt row `x`, read from its receipt. */
export const BODY_OF_RECEIPT = `(select r.body from receipts r
           where r.id = x."receiptId" and r.receipt_time = x."receiptTime")`;

/** Marks receipts processed, `ids` the parameter holding their ids (bigint[]). */
export const markProcessedSql = (ids: string) =>
  `update receipts set processed_at = now() where id = any(${ids}::bigint[])`;

/** Receipts that can never be applied: processed, with the reason (their copy is in rejected_receipts). */
export async function markDeadLettered(
  client: pg.PoolClient,
  ids: readonly string[],
  reasons: readonly string[],
): Promise<void> {
  await client.query(
    `update receipts r set processed_at = now(), error = d.reason
       from unnest($1::bigint[], $2::text[]) as d(id, reason) where r.id = d.id`,
    [ids, reasons],
  );
}
