/**
 * The producer side of BullMQ: one Queue per queue name, sharing the fail-fast producer
 * connection so an enqueue during a Redis outage errors at once instead of hanging.
 */
import { Queue } from "bullmq";
import type pg from "pg";

import type { Config } from "../config/index.js";
import { waitForReady, type RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import { QUEUE_NAMES, addJobs, persistJobId, type QueueName } from "./jobs.js";
import { createPrefixBinding, readDatabaseIdentity, type PrefixBinding } from "./prefixBinding.js";

export interface PipelineQueues {
  receipts: Queue;
  enqueuePersist(receiptIds: readonly number[], opts?: { salt?: string }): Promise<void>;
  close(): Promise<void>;
}

/** Receipts per persist job: one HTTP push body is up to ~100, larger inputs are split. */
export const PERSIST_CHUNK = 200;

/**
 * BullMQ options for a queue on the fail-fast producer connection. By default a Queue waits
 * for its connection's first 'ready' (and then asks INFO for the version) before any command,
 * so on a Redis that was down when the daemon started, queue.add would wait forever instead of
 * failing at once as it does mid-run. Skipping both makes every command go straight to ioredis,
 * which refuses it at once while disconnected (enableOfflineQueue: false) and works as soon as
 * Redis is up: the same behaviour at start as in the middle of a run. The Redis version is
 * still checked by the workers, whose connections wait.
 */
export const FAIL_FAST_QUEUE = { skipWaitingForReady: true, skipVersionCheck: true } as const;

/**
 * A queue of the catalogue for adding jobs (events stream capped at 1,000 entries). Its `error`
 * events (a lost connection) are logged when a logger is given; an unhandled one would crash us.
 * `failFast` for queues on the producer connection (see FAIL_FAST_QUEUE).
 */
export function openQueue(
  name: QueueName,
  connection: RedisConnection,
  prefix: string,
  logger?: Logger,
  opts: { failFast?: boolean } = {},
): Queue {
  const queue = new Queue(name, {
    connection,
    prefix,
    streams: { events: { maxLen: 1000 } },
    ...(opts.failFast ? FAIL_FAST_QUEUE : {}),
  });
  logQueueErrors(queue, logger);
  return queue;
}

export function logQueueErrors(queue: Queue, logger: Logger | undefined): void {
  queue.on("error", (err) => logger?.warn({ err, queue: queue.name }, "queue error"));
}

export function createPipelineQueues(
  config: Config,
  connection: RedisConnection,
  logger: Logger | undefined,
  /** The database's binding: checked before every enqueue, its scope in every job id. */
  binding: Pick<PrefixBinding, "identity" | "ensure">,
): PipelineQueues {
  const receipts = openQueue(QUEUE_NAMES.receipts, connection, config.queuePrefix, logger, {
    failFast: true,
  });
  return {
    receipts,
    async enqueuePersist(receiptIds, opts = {}) {
      if (receiptIds.length === 0) {
        return;
      }
      await binding.ensure();
      const scope = binding.identity.scope;
      const jobs = [];
      for (let i = 0; i < receiptIds.length; i += PERSIST_CHUNK) {
        const chunk = receiptIds.slice(i, i + PERSIST_CHUNK);
        jobs.push({
          data: { receiptIds: [...chunk] },
          jobId: persistJobId(chunk, opts.salt, scope),
        });
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

/**
 * The pipeline queues of a one-shot command (replay, benches, tests): reads the database's
 * identity and binds VMS_QUEUE_PREFIX to it at once, so a prefix of another database is
 * refused (PrefixBoundElsewhereError, exit 2) before anything is queued.
 */
export async function openBoundQueues(
  config: Config,
  connection: RedisConnection,
  pool: pg.Pool,
  logger?: Logger,
): Promise<PipelineQueues> {
  const identity = await readDatabaseIdentity(pool);
  const binding = createPrefixBinding(connection, config.queuePrefix, identity, () => {});
  // A one-shot command's connection may still be connecting (a producer queues no command
  // meanwhile): give it the time a command would get, then let ensure() fail as unavailable.
  await waitForReady(connection, 5000);
  await binding.ensure();
  return createPipelineQueues(config, connection, logger, binding);
}
