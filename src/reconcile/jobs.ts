/**
 * The reconcile job: one per call, with a deterministic id, in its own queue so that its
 * delays and its rate limit never hold up receipt persistence.
 */
import type { JobsOptions } from "bullmq";
import { z } from "zod";

export const RECONCILE_QUEUE = "reconcile";
export const RECONCILE_JOB = "reconcile";

export const reconcileJobSchema = z.object({
  callId: z.string().min(1).max(512),
  /** Consecutive transient failures (5xx, network, refusals): drives their backoff only. */
  transient: z.number().int().nonnegative().optional(),
});
export type ReconcileJobData = z.infer<typeof reconcileJobSchema>;

export const RECONCILE_JOB_OPTIONS = {
  // Expected outcomes (empty answer, throttling, 5xx) never fail the job: it is moved back to
  // "delayed" without spending an attempt. Attempts are only for unexpected errors (PostgreSQL
  // down): 2 s … ~2.3 h. A job that fails anyway is removed and the scheduler's recovery scan
  // enqueues it again, so no call is ever left without a job for long.
  attempts: 13,
  backoff: { type: "exponential", delay: 2000, jitter: 0.5 },
  // Removed at once so the id is free for the next reconcile of the same call (a late receipt);
  // while the job exists, adding the same id again is a no-op: one job per call.
  removeOnComplete: true,
  removeOnFail: true,
} as const satisfies JobsOptions;

/**
 * `rc-<call_id>`: BullMQ ids must not contain ':' and must not be all digits; call_ids look like
 * `116012854210^104753038210` and are kept readable, ':' and '%' are escaped.
 */
export function reconcileJobId(callId: string): string {
  return `rc-${callId.replace(/[%:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
