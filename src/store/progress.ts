/** How far the pipeline is: receipts stored and applied, calls seen and settled (the demo's progress). */
import type pg from "pg";

import { status } from "./calls/columns.js";

export interface PipelineProgress {
  receipts: number;
  unprocessed: number;
  calls: number;
  /** Calls whose reconciliation is over: reconciled or not_found. */
  reconciled: number;
}

export async function pipelineProgress(pool: pg.Pool): Promise<PipelineProgress | undefined> {
  const { rows } = await pool.query<PipelineProgress>(
    `select (select count(*)::int from receipts) as receipts,
            (select count(*)::int from receipts where processed_at is null) as unprocessed,
            (select count(*)::int from calls) as calls,
            (select count(*)::int from calls where reconcile_status in (${status("reconciled", "not_found")})) as reconciled`,
  );
  return rows[0];
}
