/**
 * The corpus calls (test/fixtures/corpus.ts) as `calls` must hold them once all their receipts
 * are applied, whichever way the receipts came (push, MNS, replay).
 */
import type pg from "pg";
import { expect } from "vitest";

import { CALLS } from "../fixtures/corpus.js";

/** Each corpus call's row, for more checks; its expected columns already checked. */
export async function expectCorpusCalls(pool: pg.Pool): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (const call of CALLS) {
    const { rows } = await pool.query<Record<string, unknown>>(
      "select *, report_received_at is not null as report from calls where call_id = $1",
      [call.callId],
    );
    expect(rows, call.callId).toHaveLength(1);
    const { report, ...columns } = call.expected;
    expect(rows[0], call.callId).toMatchObject({ ...columns, report });
    if (call.outId) {
      expect(rows[0]!.out_id, call.callId).toBe(call.outId);
    }
    found.push(rows[0]!);
  }
  return found;
}
