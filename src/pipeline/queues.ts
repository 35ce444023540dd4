/**
 * The producer side of BullMQ: one Queue per queue name, sharing the fail-fast producer
 * connection so an enqueue during a Redis outage errors at once instead of hanging.
 */
import { Queue } from "bullmq";

import type { Config } from "../config.js";
import type { RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import { QUEUE_NAMES, addJobs, persistJobId, type QueueName } from "./jobs.js";

export interface PipelineQueues {
  receipts: Queue;
  enqueuePersist(receiptIds: readonly number[], opts?: { salt?: string }): Promise<void>;
  close(): Promise<void>;
}

/** Receipts per persist job: one HTTP push body is up to ~100, larger inputs are split. */
export const PERSIST_CHUNK = 200;

/**
 * A queue of the catalogue for adding jobs (events stream capped at 1,000 entries). Its `error`
 * events (a lost connection) are logged when a logger is given; an unhandled one would crash us.
 */
export function openQueue(
  name: QueueName,
  connection: RedisConnection,
  prefix: string,
  logger?: Logger,
): Queue {
  const queue = new Queue(name, { connection, prefix, streams: { events: { maxLen: 1000 } } });
  logQueueErrors(queue, logger);
  return queue;
}

export function logQueueErrors(queue: Queue, logger: Logger | undefined): void {
  queue.on("error", (err) => logger?.warn({ err, queue: queue.name }, "queue error"));
}

export function createPipelineQueues(
  config: Config,
  connection: RedisConnection,
  logger?: Logger,
): PipelineQueues {
  const receipts = openQueue(QUEUE_NAMES.receipts, connection, config.queuePrefix, logger);
  return {
    receipts,
    async enqueuePersist(receiptIds, opts = {}) {
      if (receiptIds.length === 0) {
        return;
      }
      const jobs = [];
      for (let i = 0; i < receiptIds.length; i += PERSIST_CHUNK) {
        const chunk = receiptIds.slice(i, i + PERSIST_CHUNK);
        jobs.push({ data: { receiptIds: [...chunk] }, jobId: persistJobId(chunk, opts.salt) });
      }
      const invalid = await addJobs(receipts, "persist", jobs);
      if (invalid.length > 0) {
        // Ids come from PostgreSQL: a refusal here is a bug, never a hostile value.
        throw new TypeError(`invalid persist job ${invalid[0]?.jobId}: ${invalid[0]?.reason}`);
      }
    },
    async close() {
      await receipts.close();
    },
  };
}
