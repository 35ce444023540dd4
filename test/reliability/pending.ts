/**
 * Why outbound calls are still not reconciled: each has a BullMQ job (delayed = backing off
 * after failures or empty answers, waiting/active = in progress) or none. A marked call without
 * a job is what a worker killed between the scheduler's mark and its enqueue leaves behind; the
 * daemon's recovery scan re-enqueues such calls once they are 10 minutes overdue.
 */
import { Queue } from "bullmq";
import type pg from "pg";

import { QUEUE_NAMES, reconcileJobId } from "../../src/pipeline/jobs.js";

export interface PendingCalls {
  pending: number;
  byJobState: Record<string, number>;
  /** Marked (reconcile_due_at set) and no job: waiting for the recovery scan. */
  awaitingRecovery: number;
  /** Latest due time of a call with a delayed job, seconds from now. */
  maxDelaySeconds: number;
}

export async function pendingCalls(
  pool: pg.Pool,
  redisUrl: string,
  prefix: string,
): Promise<PendingCalls> {
  const { rows } = await pool.query<{ call_id: string; marked: boolean }>(
    `select call_id, reconcile_due_at is not null as marked from calls
      where reconcile_status = 'pending' and direction = 'outbound'`,
  );
  const queue = new Queue(QUEUE_NAMES.reconcile, { connection: { url: redisUrl }, prefix });
  const byJobState: Record<string, number> = {};
  let awaitingRecovery = 0;
  let maxDelaySeconds = 0;
  try {
    for (const r of rows) {
      const job = await queue.getJob(reconcileJobId(r.call_id));
      const state = job ? await job.getState() : "none";
      byJobState[state] = (byJobState[state] ?? 0) + 1;
      if (!job && r.marked) {
        awaitingRecovery++;
      }
      if (job && state === "delayed") {
        maxDelaySeconds = Math.max(
          maxDelaySeconds,
          (job.timestamp + job.delay - Date.now()) / 1000,
        );
      }
    }
  } finally {
    await queue.close();
  }
  return { pending: rows.length, byJobState, awaitingRecovery, maxDelaySeconds };
}
