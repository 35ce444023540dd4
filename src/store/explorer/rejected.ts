/**
 * Rejected receipts for the explorer: newest first, of one reason or all, in a Beijing day
 * range, one page at a time (keyset on received_at, id), through rejected_receipts_reason_idx
 * or rejected_receipts_received_at_idx; and how many per reason in a day range. Reads only.
 */
import type pg from "pg";

import { dayRange, keysetPage, placeholders } from "./callTime.js";

export interface RejectedFilter {
  reason?: string;
  fromDay?: string;
  toDay?: string;
}

export interface RejectedCursor {
  receivedAt: string;
  id: string;
}

export interface RejectedRow {
  id: string;
  source: string;
  message_type: string | null;
  reason: string;
  location: string | null;
  raw: string;
  received_at: Date;
  sort_key: string;
}

export interface RejectedPage {
  rows: RejectedRow[];
  next: RejectedCursor | undefined;
}

/** The raw text shown per row is cut here (the whole of it is in the table). */
export const RAW_SHOWN_CHARS = 20_000;

function conditions(filter: RejectedFilter, values: unknown[]): string[] {
  const p = placeholders(values);
  const where: string[] = [];
  if (filter.reason !== undefined) {
    where.push(`x.reason = ${p(filter.reason)}`);
  }
  where.push(...dayRange("x.received_at", filter, p));
  return where;
}

export function buildRejectedList(
  filter: RejectedFilter,
  after: RejectedCursor | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where = conditions(filter, values);
  const p = placeholders(values);
  if (after !== undefined) {
    where.push(
      `(x.received_at, x.id) < (${p(after.receivedAt)}::timestamptz, ${p(after.id)}::bigint)`,
    );
  }
  const limitParam = p(limit);
  return {
    text: `select x.id::text as id, x.source, x.message_type, x.reason, x.location,
                  left(x.raw, ${RAW_SHOWN_CHARS}) as raw, x.received_at, x.received_at::text as sort_key
             from rejected_receipts x
            ${where.length > 0 ? `where ${where.join(" and ")}` : ""}
            order by x.received_at desc, x.id desc
            limit ${limitParam}`,
    values,
  };
}

export async function listRejected(
  pool: pg.Pool,
  filter: RejectedFilter,
  after: RejectedCursor | undefined,
  pageSize: number,
): Promise<RejectedPage> {
  const { rows } = await pool.query<RejectedRow>(buildRejectedList(filter, after, pageSize + 1));
  return keysetPage(rows, pageSize, (last) => ({ receivedAt: last.sort_key, id: last.id }));
}

export interface ReasonCount {
  reason: string;
  receipts: number;
  first_at: Date;
  last_at: Date;
}

/** Rejected receipts per reason received in the day range, most frequent first. */
export function buildRejectedByReason(filter: Omit<RejectedFilter, "reason">): {
  text: string;
  values: unknown[];
} {
  const values: unknown[] = [];
  const where = conditions(filter, values);
  return {
    text: `select x.reason, count(*)::int as receipts, min(x.received_at) as first_at,
                  max(x.received_at) as last_at
             from rejected_receipts x
            ${where.length > 0 ? `where ${where.join(" and ")}` : ""}
            group by x.reason
            order by count(*) desc, x.reason
            limit 100`,
    values,
  };
}

export async function rejectedByReason(
  pool: pg.Pool,
  filter: Omit<RejectedFilter, "reason">,
): Promise<ReasonCount[]> {
  return (await pool.query<ReasonCount>(buildRejectedByReason(filter))).rows;
}
