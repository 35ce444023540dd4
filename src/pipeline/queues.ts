/**
 * The producer side of BullMQ: one Queue per queue name, sharing the fail-fast producer
 * connection so an enqueue during a Redis outage errors at once instead of hanging.
 */
import { Queue } from "bullmq";

import type { Config } from "../config.js";
import type { RedisConnection } from "../infra/redis.js";
import { QUEUE_NAMES, addJobs, persistJobId } from "./jobs.js";

export interface PipelineQueues {
  receipts: Queue;
  enqueuePersist(receiptIds: readonly number[], opts?: { salt?: string }): Promise<void>;
  close(): Promise<void>;
}

/** Receipts per persist job: one HTTP push body is up to ~100, larger inputs are split. */
export const PERSIST_CHUNK = 200;

export function createPipelineQueues(config: Config, connection: RedisConnection): PipelineQueues {
  const receipts = new Queue(QUEUE_NAMES.receipts, {
    connection,
    prefix: config.queuePrefix,
    streams: { events: { maxLen: 1000 } },
  });
  receipts.on("error", () => {});
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
