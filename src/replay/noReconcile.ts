/**
 * `replay --no-reconcile`: the calls of the replayed receipts get reconcile_status = 'skipped'
 * (reconcile_skip_reason = 'replay'), so the reconciler never spends QueryCallDetailByCallId quota on them (old archives, whose
 * details Alibaba may not keep, or calls reconciled elsewhere already).
 *
 * Done from here rather than through intake: before a batch goes to intake, the calls it will
 * create are inserted with status 'skipped' (or a 'pending' call already there is switched to
 * 'skipped'). Because the row exists before any receipt of the batch is durable, no reconciler
 * can see the call as 'pending' in between, whichever process applies the receipts and whenever
 * it does (the statement: src/store/calls/replaySkip.ts).
 */
import type pg from "pg";

import { normalizeReceipt } from "../domain/receipt.js";
import type { IntakeItem } from "../pipeline/intake.js";
import { insertSkippedCalls } from "../store/calls/replaySkip.js";

/** The calls (id, direction) a batch of receipts will create or update; invalid items are skipped. */
export function callsOfBatch(
  type: string,
  items: readonly IntakeItem[],
): Map<string, "outbound" | "inbound"> {
  const calls = new Map<string, "outbound" | "inbound">();
  for (const item of items) {
    const n = normalizeReceipt(type, item.raw);
    if (n.ok && n.receipt.call) {
      const { callId, direction } = n.receipt.call;
      if (calls.get(callId) !== "inbound") {
        calls.set(callId, direction);
      }
    }
  }
  return calls;
}

/** Returns how many calls were inserted or switched to 'skipped'. */
export async function markCallsSkipped(
  pool: pg.Pool,
  type: string,
  items: readonly IntakeItem[],
): Promise<number> {
  const calls = callsOfBatch(type, items);
  if (calls.size === 0) {
    return 0;
  }
  return insertSkippedCalls(pool, calls);
}
