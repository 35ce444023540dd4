/**
 * The explorer's call search: any mix of criteria, newest first, one page at a time (keyset on
 * the call's time and call_id). Each criterion maps to an index of calls (0007_explorer.sql and
 * earlier): call_id the primary key, out_id prefix and number suffixes their pattern indexes,
 * days and the order calls_explorer_time_idx; the other criteria filter the rows met along that
 * index walk, which the page size bounds. test/integration/uiExplain.test.ts shows the plans.
 *
 * The statement is built from the criteria present (not `$n is null or …`), so every plan is
 * the plan of exactly the conditions asked.
 */
import type pg from "pg";

import type { Product } from "../../domain/callDimensions.js";
import type { CallOutcomeRow } from "../../domain/outcomeEvents.js";

import { CALL_TIME, PRODUCT_SQL, dayRange, keysetPage, placeholders } from "./callTime.js";

export const RECONCILE_STATES = ["pending", "reconciled", "not_found", "skipped"] as const;

export interface CallSearch {
  callId?: string;
  /** Matches out_ids starting with it. */
  outIdPrefix?: string;
  /** Digits of a full number or its last digits; matches caller or callee ending with them. */
  number?: string;
  /** Beijing calendar days `YYYY-MM-DD`, inclusive. */
  fromDay?: string;
  toDay?: string;
  direction?: "outbound" | "inbound";
  product?: Product;
  /** A status_code, or `none` for calls without a result yet. */
  status?: string;
  reconcile?: (typeof RECONCILE_STATES)[number];
}

/** Where the previous page ended: its last row's time (PostgreSQL text, µs) and call_id. */
export interface CallCursor {
  time: string;
  callId: string;
}

/** A row of the result list: the columns of calls it shows, and its product and time. */
export interface CallListRow extends Pick<
  CallOutcomeRow,
  | "call_id"
  | "direction"
  | "out_id"
  | "caller"
  | "callee"
  | "status_code"
  | "status_msg"
  | "duration_seconds"
  | "reconcile_status"
> {
  product: string | null;
  has_discrepancies: boolean;
  call_time: Date;
  /** The cursor value of this row (text keeps PostgreSQL's microseconds). */
  sort_key: string;
}

/** `%`, `_` and `\` match themselves in the LIKE pattern. */
export const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

export function buildCallSearch(
  search: CallSearch,
  after: CallCursor | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const p = placeholders(values);
  if (search.callId !== undefined) {
    where.push(`c.call_id = ${p(search.callId)}`);
  }
  if (search.outIdPrefix !== undefined) {
    where.push(`c.out_id like ${p(likePrefix(search.outIdPrefix))}`);
  }
  if (search.number !== undefined) {
    const reversed = p(likePrefix([...search.number].reverse().join("")));
    where.push(`(reverse(c.callee) like ${reversed} or reverse(c.caller) like ${reversed})`);
  }
  where.push(...dayRange(CALL_TIME, search, p));
  if (search.direction !== undefined) {
    where.push(`c.direction = ${p(search.direction)}`);
    if (search.direction === "inbound" && search.product === undefined) {
      // The same rows (product inbound = direction inbound), said so that the product index
      // serves: inbound calls may be a small share, which the time index would walk past.
      where.push(`${PRODUCT_SQL} = 'inbound'`);
    }
  }
  if (search.product !== undefined) {
    where.push(`${PRODUCT_SQL} = ${p(search.product)}`);
  }
  if (search.status !== undefined) {
    where.push(
      search.status === "none" ? "c.status_code is null" : `c.status_code = ${p(search.status)}`,
    );
  }
  if (search.reconcile !== undefined) {
    where.push(`c.reconcile_status = ${p(search.reconcile)}`);
  }
  if (after !== undefined) {
    where.push(`(${CALL_TIME}, c.call_id) < (${p(after.time)}::timestamptz, ${p(after.callId)})`);
  }
  const text = `
select c.call_id, c.direction, ${PRODUCT_SQL} as product, c.out_id, c.caller, c.callee,
       c.status_code, c.status_msg, c.duration_seconds, c.reconcile_status,
       coalesce(c.discrepancies <> '{}'::jsonb, false) as has_discrepancies,
       ${CALL_TIME} as call_time, (${CALL_TIME})::text as sort_key
  from calls c
 ${where.length > 0 ? `where ${where.join("\n   and ")}` : ""}
 order by ${CALL_TIME} desc, c.call_id desc
 limit ${p(limit)}`;
  return { text, values };
}

export interface CallPage {
  rows: CallListRow[];
  /** The cursor of the next page, when there is one. */
  next: CallCursor | undefined;
}

export async function searchCalls(
  pool: pg.Pool,
  search: CallSearch,
  after: CallCursor | undefined,
  pageSize: number,
): Promise<CallPage> {
  const { rows } = await pool.query<CallListRow>(buildCallSearch(search, after, pageSize + 1));
  return keysetPage(rows, pageSize, (last) => ({ time: last.sort_key, callId: last.call_id }));
}
