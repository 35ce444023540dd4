/**
 * call_events rows of a batch of receipts: one CTE of the batch statement (../applyBatch.ts).
 * An event is kept once (call_events_natural_key); its body is copied from its receipt in the
 * database rather than sent back and parsed again.
 */
import type { CallEventRow } from "../../domain/receipt.js";
import { isoOrNull } from "../isoTime.js";
import { BODY_OF_RECEIPT, type FromReceipt } from "../receipts/apply.js";

/** The INSERT, `rows` the parameter holding the rows' JSON (eventsJson). */
export const insertEventsSql = (
  rows: string,
) => `insert into call_events (call_id, status_code, status_time, dtmf, out_id, smart_status_code, body)
  select x."callId", x."statusCode", x."statusTime", x."dtmf", x."outId", x."smartStatusCode",
         ${BODY_OF_RECEIPT}
    from json_to_recordset(${rows}::json)
      as x("receiptId" bigint, "receiptTime" timestamptz, "callId" text, "statusCode" text,
           "statusTime" timestamptz, "dtmf" text, "outId" text, "smartStatusCode" text)
  on conflict on constraint call_events_natural_key do nothing`;

export function eventsJson(rows: readonly FromReceipt<CallEventRow>[]): string {
  return JSON.stringify(rows.map((r) => ({ ...r, statusTime: isoOrNull(r.statusTime) })));
}
