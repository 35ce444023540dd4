/**
 * Queue depth and the age of the oldest waiting job, read from BullMQ when /metrics is
 * scraped (not on a timer: an idle daemon does no work for metrics nobody reads).
 */
import { Queue, type ConnectionOptions } from "bullmq";
import { Gauge, type Registry } from "prom-client";

import type { Logger } from "../logger.js";
import { QUEUE_NAMES } from "../pipeline/jobs.js";
import { FAIL_FAST_QUEUE, logQueueErrors } from "../pipeline/queues.js";

/**
 * Every queue of the job catalogue, for observing (metrics, the board): the producer's receipts
 * queue and a handle on the reconcile queue, which its workers may run in other processes.
 * The handle shares the producer connection and only reads, unless an operator acts on the board.
 */
export function openObservedQueues(
  receipts: Queue,
  connection: ConnectionOptions,
  prefix: string,
  logger?: Logger,
): { queues: Queue[]; close(): Promise<void> } {
  // On the producer connection: read-only, it must not wait for a Redis that was down at start.
  const reconcile = new Queue(QUEUE_NAMES.reconcile, { connection, prefix, ...FAIL_FAST_QUEUE });
  logQueueErrors(reconcile, logger);
  return { queues: [receipts, reconcile], close: () => reconcile.close() };
}

export function registerQueueMetrics(registry: Registry, queues: readonly Queue[]): void {
  new Gauge({
    name: "voice_receipts_queue_jobs",
    help: "BullMQ jobs by queue and state",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      for (const q of queues) {
        try {
          const counts = await q.getJobCounts(
            "waiting",
            "active",
            "delayed",
            "failed",
            "prioritized",
          );
          for (const [state, n] of Object.entries(counts)) {
            this.set({ queue: q.name, state }, n);
          }
        } catch {
          // Redis down: leave the last values; /readyz reports the outage.
        }
      }
    },
  });
  new Gauge({
    name: "voice_receipts_queue_oldest_job_age_seconds",
    help: "Age of the oldest waiting job, by queue (0 when none waits)",
    labelNames: ["queue"] as const,
    registers: [registry],
    async collect() {
      for (const q of queues) {
        try {
          const [oldest] = await q.getJobs(["wait"], 0, 0, true);
          this.set(
            { queue: q.name },
            oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0,
          );
        } catch {
          // as above
        }
      }
    },
  });
}
