/**
 * The BullMQ edge of reconciliation: outcomes of reconcileCall become BullMQ moves here and
 * only here. "Later" (empty answer, throttling, 5xx, refusal, stopping) moves the job back to
 * "delayed" without spending an attempt; a bad payload is unrecoverable; anything else (e.g.
 * PostgreSQL down) fails the attempt and BullMQ retries with the catalogue's backoff.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";

import type { RedisConnection } from "../infra/redis.js";
import { logWorkerFailures } from "../infra/workerEvents.js";
import type { Logger } from "../logger.js";
import { QUEUE_NAMES, parseJob } from "../pipeline/jobs.js";
import { LimiterAbortedError } from "./limiter.js";
import type { ReconcileMetrics } from "./metrics.js";
import type { Outcome } from "./reconcileCall.js";
import type { ReconcileWrite } from "../store/calls/reconcileWrites.js";

export interface ReconcileWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  reconcileCall(callId: string, transient: number, signal: AbortSignal): Promise<Outcome>;
  write(w: ReconcileWrite): Promise<boolean>;
  signal: AbortSignal;
  metrics: ReconcileMetrics;
  logger: Logger;
}

/**
 * BullMQ priority of a call that was asked and came back empty. BullMQ takes jobs without a
 * priority (first queries of fresh calls, due from the scheduler) before any prioritized one, so
 * retries of not-found calls never take the place of first queries; they use the quota left over.
 * The last round before giving up still runs (late, if fresh calls use the whole quota): a call
 * is `not_found` only after it (reconcileCall.ts).
 */
export const RETRY_PRIORITY = 10;

/** Little's law: requests in flight ≈ rate × time per request (API latency plus our overhead). */
export function concurrencyFor(qps: number, latencyMs: number): number {
  const perJobSeconds = latencyMs / 1000 + 0.1;
  const inFlight = Math.ceil(qps * perJobSeconds * 1.5 - 1e-9);
  return Math.max(2, Math.min(4 * qps + 10, inFlight + 2));
}

export function createReconcileWorker(o: ReconcileWorkerOptions): Worker {
  const { metrics, logger } = o;

  async function later(job: Job, token: string | undefined, delayMs: number, data: object) {
    await job.updateData(data);
    await job.moveToDelayed(Date.now() + Math.max(0, Math.round(delayMs)), token);
    throw new DelayedError();
  }

  const worker = new Worker(
    QUEUE_NAMES.reconcile,
    async (job: Job, token?: string) => {
      const parsed = parseJob("reconcile", job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`invalid reconcile payload: ${parsed.error.message}`);
      }
      const { callId } = parsed.data;
      const transient = parsed.data.transient ?? 0;
      let outcome: Outcome;
      try {
        outcome = await o.reconcileCall(callId, transient, o.signal);
      } catch (err) {
        if (err instanceof LimiterAbortedError) {
          // Stopping: nothing was sent for this job; run it again soon (here or elsewhere).
          return later(job, token, 0, parsed.data);
        }
        throw err;
      }
      if (outcome.kind === "done") {
        metrics.results.inc({ result: outcome.result });
        if (outcome.result === "unsupported" && outcome.key !== undefined) {
          metrics.unsupportedSkipped.inc({ kind: metrics.kindLabel(outcome.key) });
        }
        return outcome.result;
      }
      metrics.results.inc({ result: outcome.reason === "empty" ? "retry" : "deferred" });
      if (outcome.reason === "empty" && job.priority !== RETRY_PRIORITY) {
        await job.changePriority({ priority: RETRY_PRIORITY });
      }
      if (outcome.touchRow) {
        await o.write({ kind: "deferred", callId, delayMs: outcome.delayMs });
      }
      logger.debug(
        { callId, jobId: job.id, reason: outcome.reason, delayMs: outcome.delayMs },
        "reconcile later",
      );
      return later(job, token, outcome.delayMs, { callId, transient: outcome.transient });
    },
    {
      connection: o.connection,
      prefix: o.prefix,
      concurrency: o.concurrency,
      // A killed worker's jobs run again 10-15 s later. Locks are renewed every 5 s, also while
      // a job waits for the limiter or an open circuit.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 5,
    },
  );
  logWorkerFailures(worker, logger, "reconcile");
  return worker;
}
