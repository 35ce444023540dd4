/**
 * BullMQ worker for persist jobs. This is the BullMQ edge: errors are mapped to BullMQ
 * outcomes here and only here (bad payload → UnrecoverableError; anything else → retry with
 * the catalogue's backoff).
 *
 * Micro-batching: a job is one push (~100 receipts), too small a unit for PostgreSQL, whose
 * cost is per statement and per commit as much as per row. The jobs active at the same time
 * (up to `concurrency`) pool their receipt ids, up to BATCH_MAX_RECEIPTS, and are applied in one
 * applyReceipts transaction, BATCHES_IN_FLIGHT at most at once (group commit: an idle worker
 * applies a job at once; jobs arriving meanwhile wait and go together); each job completes or fails
 * with that transaction, so every guarantee of a single job holds for each of them. A job that
 * is being retried runs alone, so one receipt that breaks a transaction cannot keep failing its
 * neighbours.
 */
import { hostname } from "node:os";

import { UnrecoverableError, Worker } from "bullmq";
import type pg from "pg";

import type { Config } from "../config/index.js";
import { createBatcher } from "../infra/batcher.js";
import { redisIsReady, type RedisConnection } from "../infra/redis.js";
import { logWorkerFailures } from "../infra/workerEvents.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../ops/metrics.js";
import { countUnprocessed } from "../store/receipts/reads.js";
import { applyIsolated } from "./isolate.js";
import { QUEUE_NAMES, parseJob } from "./jobs.js";
import type { PersistResult } from "./persist.js";

/** Receipts per applyReceipts transaction, at most (several jobs' worth). */
export const BATCH_MAX_RECEIPTS = 1000;
/**
 * Batch transactions of one process at once. Not more: on a backlog every batch touches calls
 * rows of the others (a call's receipts come in several jobs), so parallel batches wait for
 * each other's row locks, and smaller batches write more versions of each calls row (docs/
 * benchmarks.md, "Where a persisted receipt's microseconds go"). Two, so that one batch is
 * prepared (read, normalised) while the other is in PostgreSQL.
 */
export const BATCHES_IN_FLIGHT = 2;
/** Jobs active at once: enough to fill one batch while the previous one is being applied. */
export const PERSIST_CONCURRENCY = 32;

export interface PersistWorkerDeps {
  config: Config;
  /** A worker-role connection, opened and closed by the composition root (src/app/clients.ts). */
  connection: RedisConnection;
  pool: pg.Pool;
  metrics: Metrics;
  logger: Logger;
  concurrency?: number;
}

/** A WeakSet whose add() says whether the value was new. */
class WeakSetOnce<T extends object> {
  private readonly seen = new WeakSet<T>();
  add(value: T): boolean {
    if (this.seen.has(value)) {
      return false;
    }
    this.seen.add(value);
    return true;
  }
}

/** The ids of one job that its (shared) batch skipped. */
function skippedOf(jobIds: readonly number[], skippedIds: readonly number[]): number[] {
  const skipped = new Set(skippedIds);
  return jobIds.filter((id) => skipped.has(id));
}

export function createPersistWorker(deps: PersistWorkerDeps) {
  const { config, pool, metrics, logger } = deps;
  let worker: Worker | undefined;

  // Each item is one job's ids; the whole batch is one applyReceipts transaction whose result
  // every job of the batch shares (see the file header). A receipt PostgreSQL refuses is
  // dead-lettered alone; its batch-mates are applied (isolate.ts).
  const batcher = createBatcher<readonly number[], PersistResult>({
    maxWeight: BATCH_MAX_RECEIPTS,
    weigh: (ids) => ids.length,
    maxInFlight: BATCHES_IN_FLIGHT,
    run: async (jobs) => {
      const result = await applyIsolated(pool, jobs.flat());
      return jobs.map(() => result);
    },
  });
  /** Batch results already counted in the metrics (each is shared by all its jobs). */
  const counted = new WeakSetOnce<PersistResult>();

  return {
    start() {
      worker = new Worker(
        QUEUE_NAMES.receipts,
        async (job) => {
          const parsed = parseJob("persist", job.data);
          if (!parsed.success) {
            throw new UnrecoverableError(`invalid persist payload: ${parsed.error.message}`);
          }
          const ids = parsed.data.receiptIds;
          const started = Date.now();
          const alone = job.attemptsMade > 0;
          const result = alone ? await applyIsolated(pool, ids) : await batcher.add(ids);
          const skipped = result.skipped === 0 ? [] : skippedOf(ids, result.skippedIds);
          if (skipped.length > 0 && (await countUnprocessed(pool, skipped)) > 0) {
            // Another worker holds them (or rolled back): try again shortly rather than trust it.
            throw new Error(`${skipped.length} receipts locked by another worker; retrying`);
          }
          // Batch-wide figures are counted once, by the batch's first job.
          if (alone || counted.add(result)) {
            metrics.persistBatchSize.observe(result.applied + result.deadLettered);
            for (const [type, n] of result.byType) {
              metrics.persisted.inc({ type }, n);
            }
          }
          logger.debug(
            {
              jobId: job.id,
              attempt: job.attemptsMade + 1,
              receipts: ids.length,
              batch: result.applied + result.deadLettered + result.skipped,
              applied: result.applied,
              deadLettered: result.deadLettered,
              ms: Date.now() - started,
            },
            "persisted batch",
          );
          if (result.deadLettered > 0) {
            logger.warn(
              { jobId: job.id, deadLettered: result.deadLettered },
              "receipts dead-lettered",
            );
          }
          return { applied: result.applied, deadLettered: result.deadLettered };
        },
        {
          connection: deps.connection,
          prefix: config.queuePrefix,
          // Recorded on each job as processedBy: which process applied it.
          name: `persist@${hostname()}:${process.pid}`,
          concurrency: deps.concurrency ?? PERSIST_CONCURRENCY,
          // Jobs are short; a stalled job (killed worker) is picked up again after ~15 s.
          lockDuration: 15_000,
          stalledInterval: 15_000,
          maxStalledCount: 3,
        },
      );
      logWorkerFailures(worker, logger, "persist");
    },
    async stop() {
      // Without Redis, waiting for the active jobs cannot end well (completing them needs Redis)
      // and a worker that never connected would wait forever: close at once. Their locks
      // expire and the jobs are picked up again as stalled.
      await worker?.close(!redisIsReady(deps.connection));
    },
  };
}
