/**
 * The sweeper closes the gap between "durable in PostgreSQL" and "queued in Redis": a receipt
 * whose job was lost (Redis restarted without AOF, enqueue failed after the insert, a job
 * failed for good) is enqueued again. It only sweeps while the queue is nearly idle, so a
 * normal backlog is never enqueued twice.
 */
import type pg from "pg";

import type { Logger } from "../logger.js";
import { findUnprocessed } from "../store/receipts/reads.js";
import type { PipelineQueues } from "./queues.js";

export interface SweeperOptions {
  pool: pg.Pool;
  queues: PipelineQueues;
  logger: Logger;
  intervalMs?: number;
  /** A receipt is swept once it has been unprocessed this long. */
  graceMs?: number;
}

export function createSweeper(options: SweeperOptions) {
  const { pool, queues, logger } = options;
  const intervalMs = options.intervalMs ?? 30_000;
  const graceMs = options.graceMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function sweepOnce(): Promise<number> {
    const counts = await queues.receipts.getJobCounts(
      "waiting",
      "active",
      "prioritized",
      "delayed",
    );
    const busy = Object.values(counts).reduce((s, n) => s + n, 0);
    if (busy > 10) {
      return 0;
    }
    const ids = await findUnprocessed(pool, graceMs, 5000);
    if (ids.length > 0) {
      // A fresh salt: the old job with the same ids may still exist in the failed set.
      await queues.enqueuePersist(ids, { salt: `sweep-${Date.now()}` });
      logger.warn(
        { receipts: ids.length },
        "re-enqueued durable receipts that were never processed",
      );
    }
    return ids.length;
  }

  return {
    sweepOnce,
    start() {
      timer = setInterval(() => {
        running ??= sweepOnce()
          .then(() => undefined)
          .catch((err: unknown) => {
            logger.warn({ err }, "sweep failed; will retry");
          })
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
