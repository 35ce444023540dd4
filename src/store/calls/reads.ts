/** Reads of `calls`: what the reconciler needs to know about a call. */
import type pg from "pg";

import { CALL_COLUMNS, type CallsRow } from "./columns.js";

/** The columns of a snapshot read as they are (selected under their property names). */
const SNAPSHOT_COLUMNS = [
  "callId",
  "direction",
  "outId",
  "caller",
  "callee",
  "statusCode",
  "statusMsg",
  "durationSeconds",
  "hangupDirection",
  "originateTime",
  "ringTime",
  "startTime",
  "endTime",
  "lastEventTime",
  "createdAt",
  "reconcileStatus",
  "reconcileAttempts",
  "prodId",
  "detail",
  "discrepancies",
  // What the receipts reveal of the product: the ProdId learning key (reconcile/prodIds.ts).
  "dtmf",
  "voiceType",
  "earlyMediaCode",
] as const satisfies readonly (keyof CallsRow)[];

/** What the worker needs to know about a call. */
export type CallSnapshot = Pick<CallsRow, (typeof SNAPSHOT_COLUMNS)[number]> & {
  /** A VoiceReport (the CDR) has been received. */
  hasReport: boolean;
  /** updated_at in µs: the optimistic-concurrency token of the reconciled write. */
  version: string;
  /** Reconciled, then changed by a newer receipt. */
  changed: boolean;
  /** ms until reconcile_due_at (negative when overdue), null when not scheduled. */
  dueInMs: number | null;
};

const LOAD_CALLS = `select ${SNAPSHOT_COLUMNS.map((k) => `${CALL_COLUMNS[k].column} as "${k}"`).join(", ")},
                  report_received_at is not null as "hasReport",
                  (extract(epoch from updated_at) * 1000000)::bigint::text as version,
                  coalesce(updated_at > reconciled_at, false) as changed,
                  (extract(epoch from (reconcile_due_at - now())) * 1000)::float8 as "dueInMs"
             from calls where call_id = any($1::text[])`;

export async function loadCalls(pool: pg.Pool, callIds: string[]): Promise<CallSnapshot[]> {
  const { rows } = await pool.query<CallSnapshot>({
    name: "reconcile-load",
    text: LOAD_CALLS,
    values: [callIds],
  });
  return rows;
}
