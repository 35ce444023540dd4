/**
 * createReconciler: reconciliation of calls against QueryCallDetailByCallId, for the worker
 * role. Builds the scheduler loop, the BullMQ worker, the ProdId memory and the batched
 * reads/writes over the connection, queue, RPC client and limiter that the composition root
 * (src/app/clients.ts) opened; see README "Reconciliation" for the behaviour.
 *
 * When reconcile is off (VMS_RECONCILE=off or no credentials) the root opens no link and only the
 * scheduler runs, marking calls `skipped`.
 */
import { setMaxListeners } from "node:events";

import type { Queue, Worker } from "bullmq";
import type pg from "pg";

import type { RpcClient } from "../alibaba/openapi.js";
import type { Config } from "../config/index.js";
import { createBatcher } from "../infra/batcher.js";
import type { RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import { createDetailApi } from "./detailApi.js";
import { createDetailLagMemory, type DetailLagMemory } from "./detailLag.js";
import { lagCapMs } from "./lagEstimate.js";
import type { SlidingWindowLimiter } from "./limiter.js";
import type { ReconcileMetrics } from "./metrics.js";
import { retryBaseMs } from "./policy.js";
import { createProdIdMemory } from "./prodIds.js";
import { createCallReconciler } from "./reconcileCall.js";
import { createScheduler } from "./scheduler.js";
import { describePolicy } from "./selection.js";
import { loadCalls, type CallSnapshot } from "../store/calls/reads.js";
import { loadLatestReports } from "../store/receipts/reads.js";
import { concurrencyFor, createReconcileWorker } from "./worker.js";
import { writeResults, type ReconcileWrite } from "../store/calls/reconcileWrites.js";

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

/** What reconcile needs from outside when it is on, opened once by the composition root. */
/** The limiter's sliding window: one second plus a margin for late timers (see limiter.ts). */
export function reconcileWindowMs(t: ReconcilerTuning): number {
  return 1000 + (t.windowMarginMs ?? 30);
}

export interface ReconcileLink {
  /** A worker-role connection (waits out Redis outages) for the queue, limiter and memory. */
  redis: RedisConnection;
  /** The reconcile queue, on `redis`: the scheduler adds jobs through it. */
  queue: Queue;
  rpc: RpcClient;
  limiter: SlidingWindowLimiter;
}

export interface ReconcilerDeps {
  config: Config;
  pool: pg.Pool;
  /** Absent when reconcile is off: the scheduler then only marks calls `skipped`. */
  link: ReconcileLink | undefined;
  metrics: ReconcileMetrics;
  logger: Logger;
  tuning?: ReconcilerTuning;
}

export interface Reconciler {
  start(): void;
  stop(): Promise<void>;
}

interface Running {
  worker: Worker;
  limiter: SlidingWindowLimiter;
  flush(): Promise<void>;
  sizer: NodeJS.Timeout | undefined;
  lag: DetailLagMemory;
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { config, pool, metrics, logger } = deps;
  const t = deps.tuning ?? {};
  const rc = config.reconcile;
  const link = deps.link;
  const abort = new AbortController();
  // Every job waiting for the limiter or the circuit listens to this one signal.
  setMaxListeners(0, abort.signal);
  let running: Running | undefined;
  let scheduler: ReturnType<typeof createScheduler> | undefined;

  function startWorker({ redis, queue, rpc, limiter }: ReconcileLink): Running {
    const windowMs = reconcileWindowMs(t);
    const api = createDetailApi({
      rpc,
      limiter,
      metrics,
      logger,
      ...(t.halfOpenAfterMs === undefined ? {} : { halfOpenAfterMs: t.halfOpenAfterMs }),
    });
    const reads = createBatcher<string, CallSnapshot | undefined>({
      maxWeight: 200,
      maxWaitMs: 2,
      run: async (ids) => {
        const rows = await loadCalls(pool, [...new Set(ids)]);
        const byId = new Map(rows.map((r) => [r.callId, r]));
        return ids.map((id) => byId.get(id));
      },
    });
    const writes = createBatcher<ReconcileWrite, boolean>({
      maxWeight: 200,
      maxWaitMs: 5,
      run: (items) => writeResults(pool, items),
    });
    const lag = createDetailLagMemory({
      redis,
      key: `${config.queuePrefix}:reconcile-lag`,
      configuredMs: rc.delayMs,
      capMs: lagCapMs(rc.delayMs, rc.giveUpMs),
      giveUpMs: rc.giveUpMs,
      logger,
      onDelay: (ms) => metrics.firstQueryDelay.set(ms / 1000),
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
      lag: {
        ...lag,
        firstEmpty(callId, ageMs, scheduledMs) {
          metrics.firstQueryEmpty.inc();
          lag.firstEmpty(callId, ageMs, scheduledMs);
        },
      },
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
      worker,
      limiter,
      sizer,
      lag,
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
      if (link) {
        running = startWorker(link);
      }
      scheduler = createScheduler({
        pool,
        queue: link?.queue,
        delayMs: rc.delayMs,
        ...(running ? { firstQueryDelayMs: running.lag.delayMs } : {}),
        policy: rc.policy,
        intervalMs: t.scanIntervalMs ?? 1000,
        recoverAfterMs: t.recoverAfterMs ?? 10 * 60_000,
        metrics,
        logger,
      });
      scheduler.start();
      logger.info(
        link
          ? {
              qps: rc.qps,
              delayMs: rc.delayMs,
              prodIds: rc.prodIds,
              giveUpMs: rc.giveUpMs,
              policy: describePolicy(rc.policy),
            }
          : { reason: "VMS_RECONCILE is off (or no credentials)" },
        link ? "reconciler started" : "reconcile off: calls are marked skipped",
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
      // The root closes the queue and the connection next (src/app/worker.ts).
    },
  };
}
