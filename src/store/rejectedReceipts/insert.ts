/**
 * Quarantine: input that could not be processed, with the reason. One set-based statement per
 * batch (UNNEST, one round trip), idempotent so any retry is harmless.
 */
import { createHash } from "node:crypto";

import type pg from "pg";

import type { ReceiptSource } from "../receipts/insert.js";

export interface RejectedRow {
  source: ReceiptSource;
  messageType: string | null;
  raw: string;
  reason: string;
  location: string | null;
}

/** Same input rejected again (a re-push, a redelivered MNS message) is kept once. */
export function rejectionFingerprint(r: Pick<RejectedRow, "messageType" | "raw" | "location">) {
  return createHash("sha256")
    .update(`${r.messageType ?? ""}\u0000${r.location ?? ""}\u0000${r.raw}`)
    .digest("hex");
}

export async function insertRejected(
  db: pg.Pool | pg.PoolClient,
  rows: readonly RejectedRow[],
): Promise<number> {
  if (rows.length === 0) {
    return 0;
  }
  const res = await db.query({
    name: "insert-rejected",
    text: `insert into rejected_receipts (fingerprint, source, message_type, raw, reason, location)
           select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           on conflict (fingerprint) do nothing`,
    values: [
      rows.map((r) => rejectionFingerprint(r)),
      rows.map((r) => r.source),
      rows.map((r) => r.messageType),
      // text cannot hold NUL either; keep it visible instead of failing the insert.
      rows.map((r) => r.raw.replaceAll("\u0000", "\\u0000")),
      rows.map((r) => r.reason),
      rows.map((r) => r.location),
    ],
  });
  return res.rowCount ?? 0;
}
