/**
 * recordings rows of a batch of receipts: one CTE of the batch statement (../applyBatch.ts).
 * A recording is kept once per call and file; its body is copied from its receipt in the
 * database rather than sent back and parsed again.
 */
import type { RecordingRow } from "../../domain/receipt.js";
import { isoOrNull } from "../isoTime.js";
import { BODY_OF_RECEIPT, type FromReceipt } from "../receipts/apply.js";

/** The INSERT, `rows` the parameter holding the rows' JSON (recordingsJson). */
export const insertRecordingsSql = (
  rows: string,
) => `insert into recordings (call_id, record_file, out_id, start_time, end_time, duration_seconds,
                          record_begin_time, status_code, smart_status_code, body)
  select x."callId", x."recordFile", x."outId", x."startTime", x."endTime", x."durationSeconds",
         x."recordBeginTime", x."statusCode", x."smartStatusCode",
         ${BODY_OF_RECEIPT}
    from json_to_recordset(${rows}::json)
      as x("receiptId" bigint, "receiptTime" timestamptz, "callId" text, "recordFile" text,
           "outId" text, "startTime" timestamptz, "endTime" timestamptz, "durationSeconds" int,
           "recordBeginTime" timestamptz, "statusCode" text, "smartStatusCode" text)
  on conflict (call_id, record_file) do nothing`;

export function recordingsJson(rows: readonly FromReceipt<RecordingRow>[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      ...r,
      startTime: isoOrNull(r.startTime),
      endTime: isoOrNull(r.endTime),
      recordBeginTime: isoOrNull(r.recordBeginTime),
    })),
  );
}
