/**
 * The receipts' side of the `calls` merge rule (columns.ts): a batch's patches merged into one
 * row per call (mergeCallPatches), the upsert that merges that row with the stored one
 * (upsertCallsSql, one CTE of the batch statement in ../applyBatch.ts), and the dtmf refresh.
 */
import type pg from "pg";

import type { CallPatch } from "../../domain/receipt.js";
import { emptyPatch } from "../../domain/types.js";
import { isoOrNull as iso } from "../isoTime.js";
import {
  CALL_COLUMNS,
  COLUMNS,
  RECEIPT_FIELDS,
  status,
  type Column,
  type ReceiptFieldKey,
} from "./columns.js";

/**
 * One merged row per call, produced by mergeCallPatches: the columns of a receipt's CallPatch,
 * plus whether a VoiceReport is in the batch (its values then override earlier receipt values).
 */
export type CallRow = Omit<CallPatch, "source" | "eventTime"> & { hasReport: boolean };

// Every CDR-rule column is a field of CallPatch, and the other way round.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _patchFields: Exact<
  ReceiptFieldKey,
  Exclude<keyof CallRow, "callId" | "direction" | "hasReport" | "lastEventTime" | "lastEventCode">
> = true;
void _patchFields;

/** The CallPatch fields merged per column (VoiceReport > VoiceRecordReport > VoiceCallReport). */
export const CALL_PATCH_FIELDS: readonly ReceiptFieldKey[] = RECEIPT_FIELDS.map((c) => c.key);

const RANK = { report: 3, record: 2, event: 1 } as const;

/** A call row that says nothing yet: every column NULL. */
function emptyRow(p: CallPatch): CallRow {
  const {
    source: _source,
    eventTime: _eventTime,
    ...columns
  } = emptyPatch(p.callId, p.direction, p.source);
  return { ...columns, hasReport: false };
}

/**
 * One row per call from all the patches of a batch: higher-ranked receipts (VoiceReport >
 * VoiceRecordReport > VoiceCallReport) win per field; the latest event sets last_event_*.
 */
export function mergeCallPatches(patches: readonly CallPatch[]): CallRow[] {
  const byCall = new Map<string, { row: CallRow; rank: Map<string, number> }>();
  for (const p of patches) {
    let entry = byCall.get(p.callId);
    if (!entry) {
      entry = {
        row: emptyRow(p),
        rank: new Map(),
      };
      byCall.set(p.callId, entry);
    }
    const { row, rank } = entry;
    const r = RANK[p.source];
    if (p.direction === "inbound") {
      row.direction = "inbound";
    }
    if (p.source === "report") {
      row.hasReport = true;
    }
    for (const f of CALL_PATCH_FIELDS) {
      const v = p[f];
      if (v !== null && v !== undefined && (rank.get(f) ?? 0) < r) {
        (row as unknown as Record<string, unknown>)[f] = v;
        rank.set(f, r);
      }
    }
    // Event-derived dtmf is recomputed from call_events in time order (refreshDtmfFromEvents).
    if (p.source === "event" && rank.get("dtmf") === RANK.event) {
      row.dtmf = null;
      rank.delete("dtmf");
    }
    const t = p.lastEventTime;
    if (t && p.lastEventCode) {
      const cur = row.lastEventTime;
      if (
        !cur ||
        t > cur ||
        (t.getTime() === cur.getTime() && p.lastEventCode > (row.lastEventCode ?? ""))
      ) {
        row.lastEventTime = t;
        row.lastEventCode = p.lastEventCode;
      }
    }
  }
  return [...byCall.values()].map((e) => e.row);
}

const NEWER_EVENT = `excluded.last_event_time is not null and (calls.last_event_time is null
            or excluded.last_event_time > calls.last_event_time
            or (excluded.last_event_time = calls.last_event_time and excluded.last_event_code > calls.last_event_code))`;

/**
 * Each receipt-written column as the upsert writes it: the JSON field it is read from (null:
 * none), the value inserted, and its ON CONFLICT assignment (null: the key). From its rule, so
 * that the final row does not depend on arrival order.
 */
function receiptSql(c: Column): { json: string | null; insert: string; set: string | null } {
  const col = c.column;
  const u = `u."${c.key}"`;
  const json = `"${c.key}" ${c.type}`;
  switch (c.owner === "key" ? "key" : c.receipt) {
    case "key":
      return { json, insert: u, set: null };
    case "inbound":
      return {
        json,
        insert: u,
        set: `case when excluded.${col} = 'inbound' then 'inbound' else calls.${col} end`,
      };
    case "cdr":
      return {
        json,
        insert: u,
        set: `case when excluded.report_received_at is not null and calls.reconcile_status <> ${status("reconciled")}
                 then coalesce(excluded.${col}, calls.${col}) else coalesce(calls.${col}, excluded.${col}) end`,
      };
    case "reportArrival":
      return {
        json: `"hasReport" boolean`,
        insert: `case when u."hasReport" then now() end`,
        set: `coalesce(calls.${col}, excluded.${col})`,
      };
    case "newerEvent":
      return {
        json,
        insert: u,
        set: `case when ${NEWER_EVENT} then excluded.${col} else calls.${col} end`,
      };
    case "touch":
      return { json: null, insert: "now()", set: "now()" };
    default:
      throw new Error(`calls.${col}: no receipt rule`);
  }
}

const RECEIPT_COLUMNS = COLUMNS.filter((c) => c.owner === "key" || c.receipt !== undefined).map(
  (c) => ({ ...c, ...receiptSql(c) }),
);

/**
 * The upsert of a batch's merged call rows; `rows` names the parameter holding their JSON
 * (callsJson), sent as one string instead of every element escaped into array literals.
 */
export const upsertCallsSql = (
  rows: string,
) => `insert into calls (${RECEIPT_COLUMNS.map((c) => c.column).join(", ")})
  select ${RECEIPT_COLUMNS.map((c) => c.insert).join(", ")}
    from json_to_recordset(${rows}::json) as u(${RECEIPT_COLUMNS.flatMap((c) => c.json ?? []).join(", ")})
  on conflict (${CALL_COLUMNS.callId.column}) do update set
  ${RECEIPT_COLUMNS.flatMap((c) => (c.set === null ? [] : [`${c.column} = ${c.set}`])).join(",\n  ")}`;

/** Times as ISO text (JSON.stringify meeting a Date leaves its fast path); checked complete. */
type AsJson<R> = { [K in keyof R]: R[K] extends Date | null ? string | null : R[K] };

/** The rows parameter of upsertCallsSql; rows must be sorted by callId (see ../applyBatch.ts). */
export function callsJson(rows: readonly CallRow[]): string {
  return JSON.stringify(
    rows.map(
      (r) =>
        ({
          ...r,
          originateTime: iso(r.originateTime),
          ringTime: iso(r.ringTime),
          startTime: iso(r.startTime),
          endTime: iso(r.endTime),
          lastEventTime: iso(r.lastEventTime),
        }) satisfies AsJson<CallRow>,
    ),
  );
}

/** The keys of one call, in time order: an aggregate on the natural-key index of call_events. */
const DTMF_KEYS = `(select string_agg(ce.dtmf, '' order by ce.status_time, ce.dtmf)
                      from call_events ce where ce.call_id = c.call_id and ce.dtmf is not null)`;

const REFRESH_DTMF = `update calls c set dtmf = ${DTMF_KEYS}, updated_at = now()
  where c.call_id = any($1::text[])
    and c.report_received_at is null and c.reconcile_status <> ${status("reconciled")}
    and ${DTMF_KEYS} is not null and c.dtmf is distinct from ${DTMF_KEYS}`;

/**
 * Until the CDR arrives, a call's dtmf is every key pressed so far, in time order; computed
 * from call_events so that it does not depend on the order the events arrived in.
 */
export async function refreshDtmfFromEvents(
  client: pg.PoolClient,
  callIds: string[],
): Promise<void> {
  if (callIds.length === 0) {
    return;
  }
  await client.query({
    // No join: calls rows are found by primary key (`= any`) and each one's keys looked up by
    // index, so the work is proportional to the ids given whatever the planner's statistics
    // say. (A join of calls with the aggregated events was planned, on some statistics, as a
    // whole-table scan of calls, or as a nested loop over both sides: O(table) or O(n²) per
    // batch.) Not a named statement: a generic plan made while calls was tiny would scan it
    // whole and stay cached on the connection as the table grows.
    text: REFRESH_DTMF,
    values: [callIds],
  });
}
