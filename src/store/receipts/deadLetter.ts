/**
 * Dead-lettering receipts that PostgreSQL refused to apply (src/pipeline/isolate.ts): each is
 * copied to rejected_receipts with the reason and marked processed with it, in one transaction,
 * so it is never offered to a worker (or regrouped by the sweeper) again.
 */
import type pg from "pg";

import { insertRejected } from "../rejectedReceipts/insert.js";
import type { ReceiptSource } from "./insert.js";

export async function deadLetterReceipts(
  pool: pg.Pool,
  receipts: readonly { id: number; reason: string }[],
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows } = await client.query<{
      id: string;
      source: ReceiptSource;
      message_type: string;
      body: string;
    }>(
      `select id, source, message_type, body::text as body from receipts
        where id = any($1::bigint[]) and processed_at is null for update`,
      [receipts.map((r) => r.id)],
    );
    const reasonOf = new Map(receipts.map((r) => [String(r.id), r.reason]));
    await insertRejected(
      client,
      rows.map((r) => ({
        source: r.source,
        messageType: r.message_type,
        raw: r.body,
        reason: reasonOf.get(r.id) ?? "PostgreSQL refused it",
        location: `receipts.id=${r.id}`,
      })),
    );
    await client.query(
      `update receipts r set processed_at = now(), error = d.reason
         from unnest($1::bigint[], $2::text[]) as d(id, reason)
        where r.id = d.id and r.processed_at is null`,
      [rows.map((r) => r.id), rows.map((r) => reasonOf.get(r.id) ?? "PostgreSQL refused it")],
    );
    await client.query("commit");
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
