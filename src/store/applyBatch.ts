/**
 * Everything one batch of receipts writes, in ONE statement (one round trip, one plan): calls
 * upserted, call_events and recordings inserted, receipts marked processed. Each table's part
 * comes from its owner (calls/applyReceipts.ts, callEvents/apply.ts, recordings/apply.ts,
 * receipts/apply.ts); this file only puts them together. Rows travel as JSON
 * (json_to_recordset), which the driver sends as one string instead of escaping every element
 * into array literals.
 *
 * The data-modifying CTEs are read by the final SELECT in this order, so a transaction locks
 * calls rows (sorted by call_id) before it inserts events and recordings; receipts are already
 * locked by the caller (receipts/apply.ts, lockUnprocessed). Rows are sorted by key so that
 * concurrent transactions lock rows in the same order and cannot deadlock each other. A
 * duplicate event or recording (same natural key) is left as it is.
 */
import type pg from "pg";

import type { CallEventRow, RecordingRow } from "../domain/receipt.js";
import { eventsJson, insertEventsSql } from "./callEvents/apply.js";
import { callsJson, upsertCallsSql, type CallRow } from "./calls/applyReceipts.js";
import { markProcessedSql, type FromReceipt } from "./receipts/apply.js";
import { byCallId } from "./lockOrder.js";
import { insertRecordingsSql, recordingsJson } from "./recordings/apply.js";

const APPLY_ROWS = `
with c as (
  ${upsertCallsSql("$1")}
  returning 1),
e as (
  ${insertEventsSql("$2")}
  returning 1),
rec as (
  ${insertRecordingsSql("$3")}
  returning 1),
m as (
  ${markProcessedSql("$4")}
  returning 1)
select (select count(*) from c)::int as calls, (select count(*) from e)::int as events,
       (select count(*) from rec)::int as recordings, (select count(*) from m)::int as processed`;

export interface BatchRows {
  calls: CallRow[];
  events: FromReceipt<CallEventRow>[];
  recordings: FromReceipt<RecordingRow>[];
  /** Receipts applied by these rows, marked processed in the same statement. */
  processedIds: readonly (number | string)[];
}

/** Writes one batch (see APPLY_ROWS). Must run inside the caller's transaction. */
export async function applyRows(client: pg.PoolClient, rows: BatchRows): Promise<void> {
  // Sorted so that concurrent transactions lock rows in the same order (see the file header).
  rows.calls.sort(byCallId);
  rows.events.sort(byCallId);
  rows.recordings.sort(byCallId);
  await client.query({
    name: "apply-rows",
    text: APPLY_ROWS,
    values: [
      callsJson(rows.calls),
      eventsJson(rows.events),
      recordingsJson(rows.recordings),
      rows.processedIds,
    ],
  });
}
