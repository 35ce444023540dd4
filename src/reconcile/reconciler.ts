/**
 * createReconciler: reconciliation of calls against QueryCallDetailByCallId, for the worker
 * role. Wires the scheduler loop, the BullMQ worker, the shared limiter, the ProdId memory and
 * the batched reads/writes; see README "Reconciliation" for the behaviour.
 *
 * When reconcile is off (VMS_RECONCILE=off or no credentials) only the scheduler runs, marking
 * calls `skipped`; no Redis connection and no API client are made.
 */
import { setMaxListeners } from "node:events";

import { Queue, type Worker } from "bullmq";
import type pg from "pg";

import { createRpcClient } from "../alibaba/openapi.js";
import type { Config } from "../config.js";
import { closeRedis, createRedis, type RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import { createBatcher } from "./batcher.js";
import { createDetailApi, type DetailApi } from "./detailApi.js";
import { RECONCILE_QUEUE } from "./jobs.js";
import { createSlidingWindowLimiter, type SlidingWindowLimiter } from "./limiter.js";
import type { ReconcileMetrics } from "./metrics.js";
import { retryBaseMs } from "./policy.js";
import { createProdIdMemory } from "./prodIds.js";
import { createCallReconciler } from "./reconcileCall.js";
import { createScheduler } from "./scheduler.js";
import { describePolicy } from "./selection.js";
import { loadCalls, loadLatestReports, type CallSnapshot } from "./store.js";
import { concurrencyFor, createReconcileWorker } from "./worker.js";
import { writeResults, type ReconcileWrite } from "./writes.js";

/** Knobs with production defaults; tests and benches shorten some. */
export interface ReconcilerTuning {
  /** Scheduler pause between scans when there is nothing to do; default 1 s. */
  scanIntervalMs?: number;
  /** Re-enqueue calls whose job is this overdue (lost job); default 10 min. */
  recoverAfterMs?: number;
  /** Added to the 1 s window to absorb network jitter; default 30 ms. */
  windowMarginMs?: number;
  /** Fixed worker concurrency; default sized from QPS × latency (Little's law) and adapted. */
  concurrency?: number;
  /** Open circuit → one probe after this; default 5 s. */
  halfOpenAfterMs?: number;
  /** Per-request timeout of QueryCallDetailByCallId; default 5 s. */
  apiTimeoutMs?: number;
}

export interface ReconcilerDeps {
  config: Config;
  pool: pg.Pool;
  metrics: ReconcileMetrics;
  logger: Logger;
  tuning?: ReconcilerTuning;
}

export interface Reconciler {
  start(): void;
  stop(): Promise<void>;
}

interface Running {
  redis: RedisConnection;
  queue: Queue;
  worker: Worker;
  limiter: SlidingWindowLimiter;
  api: DetailApi;
  flush(): Promise<void>;
  sizer: NodeJS.Timeout | undefined;
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { config, pool, metrics, logger } = deps;
  const t = deps.tuning ?? {};
  const rc = config.reconcile;
  const credentials = rc.enabled ? config.credentials : undefined;
  const abort = new AbortController();
  // Every job waiting for the limiter or the circuit listens to this one signal.
  setMaxListeners(0, abort.signal);
  let running: Running | undefined;
  let scheduler: ReturnType<typeof createScheduler> | undefined;

  function startWorker(creds: NonNullable<Config["credentials"]>): Running {
    const redis = createRedis(config, "worker", "voice-receipts-reconcile");
    const queue = new Queue(RECONCILE_QUEUE, {
      connection: redis,
      prefix: config.queuePrefix,
      streams: { events: { maxLen: 1000 } },
    });
    queue.on("error", () => {});
    const windowMs = 1000 + (t.windowMarginMs ?? 30);
    metrics.rate.set(rc.qps);
    const limiter = createSlidingWindowLimiter({
      redis,
      key: `${config.queuePrefix}:reconcile-limiter`,
      limit: rc.qps,
      windowMs,
      onRate: (rate) => metrics.rate.set(rate),
      onLate: () => metrics.limiterLate.inc(),
      onError: (err) =>
        logger.warn({ err: { message: err.message } }, "rate limiter: Redis failed"),
    });
    const api = createDetailApi({
      rpc: createRpcClient({
        endpoint: config.apiEndpoint,
        accessKeyId: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        timeoutMs: t.apiTimeoutMs ?? 5000,
      }),
      limiter,
      metrics,
      logger,
      ...(t.halfOpenAfterMs === undefined ? {} : { halfOpenAfterMs: t.halfOpenAfterMs }),
    });
    const reads = createBatcher<string, CallSnapshot | undefined>({
      maxItems: 200,
      maxWaitMs: 2,
      run: async (ids) => {
        const rows = await loadCalls(pool, [...new Set(ids)]);
        const byId = new Map(rows.map((r) => [r.callId, r]));
        return ids.map((id) => byId.get(id));
      },
    });
    const writes = createBatcher<ReconcileWrite, boolean>({
      maxItems: 200,
      maxWaitMs: 5,
      run: (items) => writeResults(pool, items),
    });
    const reconcileCall = createCallReconciler({
      prodIds: rc.prodIds,
      policy: rc.policy,
      giveUpMs: rc.giveUpMs,
      retryBaseMs: retryBaseMs(rc.delayMs),
      load: (id) => reads.add(id),
      loadReport: async (id) => (await loadLatestReports(pool, [id])).get(id),
      write: (w) => writes.add(w),
      api,
      memory: createProdIdMemory(redis, `${config.queuePrefix}:reconcile-prodids`),
      logger,
    });
    const worker = createReconcileWorker({
      connection: redis,
      prefix: config.queuePrefix,
      concurrency: t.concurrency ?? concurrencyFor(rc.qps, api.latencyMs()),
      reconcileCall,
      write: (w) => writes.add(w),
      signal: abort.signal,
      metrics,
      logger,
    });
    metrics.setBacklogSource({
      dueCalls: async () => {
        const n = await queue.getJobCounts("waiting", "prioritized", "active");
        return (n.waiting ?? 0) + (n.prioritized ?? 0) + (n.active ?? 0);
      },
      callsPerSecond: () => (limiter.rate() * 1000) / windowMs,
    });
    // Size concurrency to the latency we actually see: too few in flight cannot reach the cap,
    // too many only wait for the limiter.
    const sizer =
      t.concurrency === undefined
        ? setInterval(() => {
            worker.concurrency = concurrencyFor(rc.qps, api.latencyMs());
          }, 5000).unref()
        : undefined;
    return {
      redis,
      queue,
      worker,
      limiter,
      api,
      sizer,
      flush: async () => {
        await reads.flush();
        await writes.flush();
      },
    };
  }

  return {
    start() {
      if (scheduler) {
        return;
      }
      if (rc.enabled && credentials) {
        running = startWorker(credentials);
      }
      scheduler = createScheduler({
        pool,
        queue: running?.queue,
        delayMs: rc.delayMs,
        policy: rc.policy,
        intervalMs: t.scanIntervalMs ?? 1000,
        recoverAfterMs: t.recoverAfterMs ?? 10 * 60_000,
        metrics,
        logger,
      });
      scheduler.start();
      logger.info(
        rc.enabled && credentials
          ? {
              qps: rc.qps,
              delayMs: rc.delayMs,
              prodIds: rc.prodIds,
              giveUpMs: rc.giveUpMs,
              policy: describePolicy(rc.policy),
            }
          : { reason: "VMS_RECONCILE is off (or no credentials)" },
        rc.enabled && credentials
          ? "reconciler started"
          : "reconcile off: calls are marked skipped",
      );
    },
    async stop() {
      await scheduler?.stop();
      const r = running;
      running = undefined;
      if (!r) {
        return;
      }
      clearInterval(r.sizer);
      metrics.setBacklogSource(undefined);
      // Stop taking jobs, then wake every job that waits for the limiter or the circuit: they
      // go back to the queue unsent. Requests already sent finish and are written.
      const closing = r.worker.close();
      abort.abort();
      r.limiter.close();
      await closing;
      await r.flush();
      await r.queue.close();
      await closeRedis(r.redis);
    },
  };
}
