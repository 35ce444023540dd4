/**
 * buildApp, the composition root: opens every connection and client once (src/app/clients.ts),
 * builds the parts of this process's role from them and owns the start and stop order. No
 * signals, no process.exit: main.ts owns those, tests call start()/stop() directly.
 *
 * Roles (src/app/roles.ts): `ingest` runs the HTTP server and the MNS consumer
 * (src/app/ingest.ts), `worker` runs the BullMQ workers, the sweeper and the reconciler
 * (src/app/worker.ts), `all` runs both. Any number of processes of each role can share one
 * Redis and one PostgreSQL.
 *
 * Start: migrations → partitions → worker components → HTTP → ingest components.
 * Stop (src/shutdown.ts, bounded): HTTP → ingest components (smart-call, mns) → worker
 * components (sweeper, persist-worker, reconciler) → observed-queues → queues → redis →
 * partitions → postgres.
 */
import type { FastifyInstance } from "fastify";

import { openClients } from "./app/clients.js";
import { startAll, stopSteps, type Component } from "./app/component.js";
import { buildHttp } from "./app/http.js";
import { buildIngest, openSmartCall } from "./app/ingest.js";
import { runsIngest, runsWorker, type Role } from "./app/roles.js";
import { buildWorker } from "./app/worker.js";
import type { Config } from "./config/index.js";
import { closeRedis, waitForReady } from "./infra/redis.js";
import type { Logger } from "./logger.js";
import { createMetrics, type Metrics } from "./ops/metrics.js";
import { registerQueueMetrics } from "./ops/queueMetrics.js";
import { createIntake, type Intake } from "./pipeline/intake.js";
import type { DeliveryTuning } from "./delivery/worker.js";
import type { ReconcilerTuning } from "./reconcile/reconciler.js";
import type { FetcherTuning } from "./recordings/fetcher.js";
import { openObjectStore } from "./recordings/objectStore.js";
import { runShutdown } from "./shutdown.js";
import { createPool } from "./store/db.js";
import { runMigrations } from "./store/migrate.js";
import { createPartitionMaintainer } from "./store/partitions.js";
import { readDatabaseIdentity } from "./pipeline/prefixBinding.js";

/** How long start() waits for Redis before serving without it. */
const REDIS_START_WAIT_MS = 2000;

export interface AppOptions {
  role: Role;
  logger: Logger;
  /** Skip migrations (tests that clone an already migrated database). */
  migrate?: boolean;
  /** Listen on this port instead of config.push.port (tests use 0). */
  port?: number;
  shutdownDeadlineMs?: number;
  /** Sweeper timing (tests shorten it). */
  sweep?: { intervalMs?: number; graceMs?: number };
  /** Reconciler timing (tests and benches shorten it). */
  reconcile?: ReconcilerTuning;
  /** Recording fetcher timing (tests shorten it). */
  recordings?: FetcherTuning;
  /** Outcome delivery timing (tests shorten it). */
  delivery?: DeliveryTuning;
}

export interface App {
  config: Config;
  metrics: Metrics;
  intake: Intake;
  http: FastifyInstance | undefined;
  /** Present in roles that run workers; tests call sweepOnce() directly. */
  sweeper: { sweepOnce(): Promise<number> } | undefined;
  start(): Promise<void>;
  /** Ordered, bounded stop; resolves true when everything closed before the deadline. */
  stop(): Promise<boolean>;
  /** The HTTP address after start(), e.g. http://127.0.0.1:8080. */
  url(): string | undefined;
}

export async function buildApp(config: Config, options: AppOptions): Promise<App> {
  const { logger, role } = options;
  const metrics = createMetrics();
  const pool = createPool(config.databaseUrl, { max: 10 });
  // Before Redis connects: a bad rules file then has only the pool to undo.
  const smartCall = runsIngest(role)
    ? await openSmartCall(config, pool, metrics, logger)
    : undefined;
  // Which database this is, for the queue prefix's binding and the persist job ids.
  const identity = await readDatabaseIdentity(pool).catch(async (err: unknown) => {
    await pool.end().catch(() => {});
    throw err;
  });
  const clients = openClients(config, role, {
    pool,
    identity,
    metrics: metrics.reconcile,
    logger,
    ...(options.reconcile ? { tuning: options.reconcile } : {}),
  });
  registerQueueMetrics(metrics.registry, clients.observed.queues);
  metrics.reconcileQpsLimit.set(config.reconcile.enabled ? config.reconcile.qps : 0);
  const intake = createIntake({
    pool,
    queues: clients.queues,
    metrics,
    logger: logger.child({ component: "intake" }),
  });

  // Recordings kept in VMS_RECORDINGS_STORE: the worker part writes them, the explorer plays them.
  const recordingStore = await openObjectStore(config);
  const ingest = smartCall
    ? buildIngest({ config, pool, clients, intake, smartCall, metrics, logger, recordingStore })
    : undefined;
  const worker = runsWorker(role)
    ? buildWorker({
        config,
        pool,
        clients,
        metrics,
        logger,
        ...(options.sweep ? { sweep: options.sweep } : {}),
        ...(options.reconcile ? { reconcile: options.reconcile } : {}),
        // Recordings downloaded into VMS_RECORDINGS_STORE before Alibaba's 7-day link expires.
        recordingStore,
        ...(options.recordings ? { recordings: options.recordings } : {}),
        ...(options.delivery ? { delivery: options.delivery } : {}),
      })
    : undefined;
  const http = buildHttp({
    config,
    pool,
    producerRedis: clients.producerRedis,
    metrics,
    logger,
    routes: ingest?.routes,
    port: options.port,
  });
  // Month partitions of receipts/call_events, created ahead (any role; safe from many processes).
  const partitions = createPartitionMaintainer({
    pool,
    logger: logger.child({ component: "partitions" }),
  });

  const workerComponents = worker?.components ?? [];
  const servingComponents: Component[] = [...(http ? [http] : []), ...(ingest?.components ?? [])];
  // The recording fetcher closes the store in roles with workers; an ingest-only process here.
  if (recordingStore && !worker) {
    servingComponents.push({
      name: "recording-store",
      start: () => {},
      stop: async () => recordingStore.close(),
    });
  }
  let stopping: Promise<boolean> | undefined;

  return {
    config,
    metrics,
    intake,
    http: http?.server,
    sweeper: worker?.sweeper,
    url: () => http?.url(),
    async start() {
      if (options.migrate !== false) {
        const result = await runMigrations(pool);
        logger.info({ ...result }, result.applied > 0 ? "migrations applied" : "schema up to date");
      }
      partitions.start();
      // A moment for the producer's first connection, so that the first pushes after a normal
      // start are not refused; a Redis missing at start is then treated as one lost mid-run
      // (pushes 503, /readyz names redis) rather than holding the start.
      if (await waitForReady(clients.producerRedis, REDIS_START_WAIT_MS)) {
        // A prefix of another database is a configuration error (exit 2). Without Redis, the
        // binding is checked once it appears, before anything is queued or consumed.
        await clients.binding.ensure();
      }
      await startAll(workerComponents);
      if (worker) {
        logger.info({ role }, "workers started");
      }
      await startAll(servingComponents);
    },
    stop() {
      stopping ??= (async () => {
        const steps = [
          ...stopSteps(servingComponents),
          ...stopSteps(workerComponents),
          { name: "observed-queues", run: () => clients.observed.close() },
          { name: "queues", run: () => clients.queues.close() },
          { name: "redis", run: () => closeRedis(clients.producerRedis) },
          { name: "partitions", run: () => partitions.stop() },
          { name: "postgres", run: () => pool.end() },
        ];
        const ok = await runShutdown(steps, logger, options.shutdownDeadlineMs ?? 10_000);
        logger.info({ clean: ok }, "stopped");
        return ok;
      })();
      return stopping;
    },
  };
}
