/**
 * A BullMQ worker's failure events, logged the same way for every queue: a failed job is a
 * warning (BullMQ retries it, or keeps it failed for the board), a worker error (a lost
 * connection, a script failure) is an error. Without an `error` listener BullMQ's errors would
 * be dropped.
 */
import type { Worker } from "bullmq";

import type { Logger } from "../logger.js";
import { isRedisConnectionError } from "./redis.js";

export function logWorkerFailures(worker: Worker, logger: Logger, name: string): void {
  worker.on("failed", (job, err) => {
    logger.warn({ jobId: job?.id, attempt: job?.attemptsMade, err }, `${name} job failed`);
  });
  worker.on("error", (err) => {
    // A Redis outage is logged once per change by the producer's watcher (watchRedis); BullMQ
    // repeats it at every reconnect attempt of each of the worker's connections.
    if (isRedisConnectionError(err)) {
      logger.debug({ err }, `${name} worker: redis unreachable`);
    } else {
      logger.error({ err }, `${name} worker error`);
    }
  });
}
