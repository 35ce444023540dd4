/**
 * Applies durable receipts to calls, call_events and recordings in one transaction per batch.
 * Receipts are locked with SKIP LOCKED and marked processed in the same transaction, so two
 * workers (or a job and its sweep duplicate) never apply the same receipt twice, and a crash
 * before commit leaves them unprocessed for the retry.
 */
import type pg from "pg";

import { normalizeReceipt, type CallPatch } from "../domain/receipt.js";
import { emptyPatch } from "../domain/types.js";
import {
  applyRows,
  refreshDtmfFromEvents,
  type BatchRows,
  type CallRow,
} from "../store/calls/applyReceipts.js";
import { insertRejected, type ReceiptSource, type RejectedRow } from "../store/receiptsStore.js";

export interface PersistResult {
  applied: number;
  deadLettered: number;
  /** Already processed or locked by another worker. */
  skipped: number;
  /** Which of the requested ids were skipped (already processed, or locked elsewhere). */
  skippedIds: number[];
  byType: Map<string, number>;
}

const CALL_FIELDS = [
  "outId",
  "caller",
  "callee",
  "statusCode",
  "statusMsg",
  "smartStatusCode",
  "earlyMediaCode",
  "voiceType",
  "originateTime",
  "ringTime",
  "startTime",
  "endTime",
  "durationSeconds",
  "hangupDirection",
  "dtmf",
] as const satisfies readonly (keyof CallRow & keyof CallPatch)[];

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
    for (const f of CALL_FIELDS) {
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

interface LockedReceipt {
  id: string;
  /** receipt_time as text: with the id, lets applyRows read the body from one partition. */
  receipt_time: string;
  message_type: string;
  source: ReceiptSource;
  body: unknown;
}

export async function applyReceipts(
  pool: pg.Pool,
  receiptIds: readonly number[],
): Promise<PersistResult> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { rows } = await client.query<LockedReceipt>({
      name: "lock-receipts",
      // By id alone (jobs carry ids): every partition's receipts_unprocessed_idx is probed, and
      // in a month whose receipts are all applied that index is empty.
      text: `select id, receipt_time::text as receipt_time, message_type, source, body from receipts
              where id = any($1::bigint[]) and processed_at is null
              order by id for update skip locked`,
      values: [receiptIds],
    });
    const patches: CallPatch[] = [];
    const goodIds: string[] = [];
    const batch: BatchRows = { calls: [], events: [], recordings: [], processedIds: goodIds };
    const dtmfCalls = new Set<string>();
    const byType = new Map<string, number>();
    const dead: RejectedRow[] = [];
    const deadIds: string[] = [];
    const deadReasons: string[] = [];
    for (const row of rows) {
      const result = normalizeReceipt(row.message_type, row.body);
      if (result.ok) {
        const r = result.receipt;
        goodIds.push(row.id);
        byType.set(r.messageType, (byType.get(r.messageType) ?? 0) + 1);
        if (r.call) {
          patches.push(r.call);
        }
        // Bodies stay in the database: the rows name their receipt instead (applyRows).
        if (r.event) {
          const { body: _body, ...event } = r.event;
          batch.events.push({ ...event, receiptId: row.id, receiptTime: row.receipt_time });
          if (event.dtmf !== null) {
            dtmfCalls.add(event.callId);
          }
        }
        if (r.recording) {
          const { body: _body, ...recording } = r.recording;
          batch.recordings.push({ ...recording, receiptId: row.id, receiptTime: row.receipt_time });
        }
      } else {
        // Validated at intake, so this only happens when the rules changed since: dead-letter it.
        dead.push({
          source: row.source,
          messageType: row.message_type,
          raw: JSON.stringify(row.body),
          reason: result.reason,
          location: `receipts.id=${row.id}`,
        });
        deadIds.push(row.id);
        deadReasons.push(result.reason);
      }
    }
    batch.calls = mergeCallPatches(patches);

    if (goodIds.length > 0) {
      await applyRows(client, batch);
      await refreshDtmfFromEvents(client, [...dtmfCalls]);
    }
    if (deadIds.length > 0) {
      await insertRejected(client, dead);
      await client.query(
        `update receipts r set processed_at = now(), error = d.reason
           from unnest($1::bigint[], $2::text[]) as d(id, reason) where r.id = d.id`,
        [deadIds, deadReasons],
      );
    }
    await client.query("commit");

    const locked = new Set(rows.map((r) => Number(r.id)));
    const skippedIds = [...new Set(receiptIds)].filter((id) => !locked.has(id));
    return {
      applied: goodIds.length,
      deadLettered: dead.length,
      skipped: skippedIds.length,
      skippedIds,
      byType,
    };
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
