/**
 * Applies durable receipts to calls, call_events and recordings in one transaction per batch.
 * Receipts are locked with SKIP LOCKED and marked processed in the same transaction, so two
 * workers (or a job and its sweep duplicate) never apply the same receipt twice, and a crash
 * before commit leaves them unprocessed for the retry.
 */
import type pg from "pg";

import { normalizeReceipt, type CallPatch } from "../domain/receipt.js";
import { applyRows, type BatchRows } from "../store/applyBatch.js";
import { mergeCallPatches, refreshDtmfFromEvents } from "../store/calls/applyReceipts.js";
import { emitCallsCompleted } from "../store/events/callEvents.js";
import { lockUnprocessed, markDeadLettered } from "../store/receipts/apply.js";
import { insertRejected, type RejectedRow } from "../store/rejectedReceipts/insert.js";
import { inTransaction } from "../store/transaction.js";

export interface PersistResult {
  applied: number;
  deadLettered: number;
  /** Already processed or locked by another worker. */
  skipped: number;
  /** Which of the requested ids were skipped (already processed, or locked elsewhere). */
  skippedIds: number[];
  byType: Map<string, number>;
}

export async function applyReceipts(
  pool: pg.Pool,
  receiptIds: readonly number[],
): Promise<PersistResult> {
  return inTransaction(pool, async (client) => {
    const rows = await lockUnprocessed(client, receiptIds);
    const patches: CallPatch[] = [];
    const goodIds: string[] = [];
    const batch: BatchRows = { calls: [], events: [], recordings: [], processedIds: goodIds };
    const dtmfCalls = new Set<string>();
    const byType = new Map<string, number>();
    const dead: RejectedRow[] = [];
    const deadIds: string[] = [];
    const deadReasons: string[] = [];
    for (const row of rows) {
      // Validated at intake: read, not validated again (NormalizeOptions.stored).
      const result = normalizeReceipt(row.message_type, row.body, { stored: true });
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
      // Outcome events (README "Deliver outcomes to your systems"): call.completed, in this
      // transaction.
      await emitCallsCompleted(
        client,
        batch.calls.map((c) => c.callId),
      );
    }
    if (deadIds.length > 0) {
      await insertRejected(client, dead);
      await markDeadLettered(client, deadIds, deadReasons);
    }

    const locked = new Set(rows.map((r) => Number(r.id)));
    const skippedIds = [...new Set(receiptIds)].filter((id) => !locked.has(id));
    return {
      applied: goodIds.length,
      deadLettered: dead.length,
      skipped: skippedIds.length,
      skippedIds,
      byType,
    };
  });
}
