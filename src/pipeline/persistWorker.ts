/**
 * BullMQ worker for persist jobs. This is the BullMQ edge: errors are mapped to BullMQ
 * outcomes here and only here (bad payload → UnrecoverableError; anything else → retry with
 * the catalogue's backoff).
 */
import { UnrecoverableError, Worker } from "bullmq";
import type pg from "pg";

import type { Config } from "../config.js";
import { createRedis } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { Db } from "../store/db.js";
import { JOB_CATALOG, QUEUE_NAMES } from "./jobs.js";
import { applyReceipts } from "./persist.js";

export interface PersistWorkerDeps {
  config: Config;
  db: Db;
  pool: pg.Pool;
  metrics: Metrics;
  logger: Logger;
  concurrency?: number;
}

export function createPersistWorker(deps: PersistWorkerDeps) {
  const { config, pool, metrics, logger } = deps;
  let worker: Worker | undefined;

  async function stillUnprocessed(ids: readonly number[]): Promise<number> {
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from receipts where id = any($1::bigint[]) and processed_at is null",
      [ids],
    );
    return rows[0]?.n ?? 0;
  }

  return {
    start() {
      const connection = createRedis(config.redisUrl, "worker", "voice-receipts-persist");
      worker = new Worker(
        QUEUE_NAMES.receipts,
        async (job) => {
          const parsed = JOB_CATALOG.persist.schema.safeParse(job.data);
          if (!parsed.success) {
            throw new UnrecoverableError(`invalid persist payload: ${parsed.error.message}`);
          }
          const ids = parsed.data.receiptIds;
          const started = Date.now();
          const result = await applyReceipts(pool, ids);
          if (result.skipped > 0 && (await stillUnprocessed(ids)) > 0) {
            // Another worker holds them (or rolled back): try again shortly rather than trust it.
            throw new Error(`${result.skipped} receipts locked by another worker; retrying`);
          }
          metrics.persistBatchSize.observe(ids.length);
          for (const [type, n] of result.byType) {
            metrics.persisted.inc({ type }, n);
          }
          logger.debug(
            {
              jobId: job.id,
              attempt: job.attemptsMade + 1,
              receipts: ids.length,
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
          connection,
          prefix: config.queuePrefix,
          concurrency: deps.concurrency ?? 4,
          // Jobs are short; a stalled job (killed worker) is picked up again after ~15 s.
          lockDuration: 15_000,
          stalledInterval: 15_000,
          maxStalledCount: 3,
        },
      );
      worker.on("failed", (job, err) => {
        logger.warn(
          { jobId: job?.id, attempt: job?.attemptsMade, err: { message: err.message } },
          "persist job failed",
        );
      });
      worker.on("error", (err) => {
        logger.error({ err: { message: err.message } }, "persist worker error");
      });
    },
    async stop() {
      if (worker) {
        const conn = worker.opts.connection;
        await worker.close();
        if (conn && "quit" in conn) {
          await (conn as { quit(): Promise<unknown> }).quit().catch(() => {});
        }
      }
    },
  };
}
