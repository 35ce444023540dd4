/**
 * buildApp: wires every stage for one process. No signals, no process.exit: main.ts owns those,
 * tests call start()/stop() directly.
 *
 * Roles: `ingest` runs the HTTP server and the MNS consumer, `worker` runs the BullMQ workers
 * and the sweeper, `all` runs both. Any number of processes of each role can share one Redis
 * and one PostgreSQL.
 */
import type { AddressInfo } from "node:net";

import type { FastifyInstance } from "fastify";

import type { Role } from "./cli/program.js";
import type { Config } from "./config.js";
import { createRedis } from "./infra/redis.js";
import type { Logger } from "./logger.js";
import { createReadiness } from "./ops/health.js";
import { createMetrics, type Metrics } from "./ops/metrics.js";
import { registerQueueBoard } from "./ops/board.js";
import { openObservedQueues, registerQueueMetrics } from "./ops/queueMetrics.js";
import { createIntake, type Intake } from "./pipeline/intake.js";
import { createDeliveryWorker, type DeliveryTuning } from "./delivery/worker.js";
import { createPipelineQueues } from "./pipeline/queues.js";
import { createPersistWorker } from "./pipeline/persistWorker.js";
import { createSweeper } from "./pipeline/sweeper.js";
import { createReconciler, type ReconcilerTuning } from "./reconcile/reconciler.js";
import { runShutdown, type ShutdownStep } from "./shutdown.js";
import { registerSmartCallRoute } from "./smartcall/route.js";
import { createSmartCallService } from "./smartcall/service.js";
import { registerPushRoutes } from "./sources/http/pushRoute.js";
import { createMnsConsumer } from "./sources/mns/consumer.js";
import { createTokenProvider } from "./sources/mns/tokens.js";
import { buildHttpServer } from "./sources/http/server.js";
import { createDb, createPool } from "./store/db.js";
import { runMigrations } from "./store/migrate.js";
import { createPartitionMaintainer } from "./store/partitions.js";

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
  const runsIngest = role === "all" || role === "ingest";
  const runsWorker = role === "all" || role === "worker";
  const metrics = createMetrics();

  const pool = createPool(config.databaseUrl, { max: 10 });
  const db = createDb(pool);
  // Before Redis connects (the pool has not connected yet): a bad VMS_SMART_CALL_RULES file is a
  // ConfigError here with nothing else to undo.
  const smartCall = runsIngest
    ? await createSmartCallService({
        config: config.smartCall,
        pool,
        metrics: metrics.smartCall,
        logger: logger.child({ component: "smart-call" }),
      }).catch(async (err: unknown) => {
        await pool.end();
        throw err;
      })
    : undefined;
  const producerRedis = createRedis(config, "producer");
  const queues = createPipelineQueues(config, producerRedis);
  const observed = openObservedQueues(queues.receipts, producerRedis, config.queuePrefix);
  registerQueueMetrics(metrics.registry, observed.queues);
  metrics.reconcileQpsLimit.set(config.reconcile.enabled ? config.reconcile.qps : 0);
  const adminToken = config.adminToken;
  const intake = createIntake({
    pool,
    queues,
    metrics,
    logger: logger.child({ component: "intake" }),
  });

  // Ingest roles serve the push routes (and health, readiness, metrics) on VMS_PUSH_PORT; a
  // worker-only process serves just health, readiness and metrics, on VMS_METRICS_PORT if set,
  // so its reconcile and persistence series can be scraped too.
  const opsOnly = !runsIngest && config.metricsPort !== undefined;
  const httpPort = runsIngest ? config.push.port : (config.metricsPort ?? 0);
  const http = opsOnly
    ? buildHttpServer({
        logger: logger.child({ component: "http" }),
        metrics,
        readiness: createReadiness(pool, producerRedis),
        bodyLimitBytes: config.push.bodyLimitBytes,
      })
    : runsIngest
      ? buildHttpServer({
          logger: logger.child({ component: "http" }),
          metrics,
          readiness: createReadiness(pool, producerRedis),
          bodyLimitBytes: config.push.bodyLimitBytes,
          routes: [
            (app) =>
              registerPushRoutes(app, {
                intake,
                metrics,
                token: config.push.token,
                logger: logger.child({ component: "push" }),
              }),
            ...(smartCall
              ? [
                  (app: FastifyInstance) =>
                    registerSmartCallRoute(app, {
                      service: smartCall,
                      token: config.push.token,
                      metrics: metrics.smartCall,
                      logger: logger.child({ component: "smart-call" }),
                      reject: (rows) => intake.reject(rows),
                    }),
                ]
              : []),
            // The queue board, only when VMS_ADMIN_TOKEN is set (src/ops/board.ts).
            ...(adminToken
              ? [
                  (app: FastifyInstance) =>
                    registerQueueBoard(app, { token: adminToken, queues: observed.queues }),
                ]
              : []),
          ],
        })
      : undefined;

  const credentials = config.credentials;
  const mnsConsumer =
    runsIngest && config.mns.queues.length > 0 && credentials
      ? createMnsConsumer({
          endpoint: config.mns.endpoint,
          queues: config.mns.queues,
          waitSeconds: config.mns.waitSeconds,
          concurrency: config.mns.concurrency,
          tokens: createTokenProvider({
            endpoint: config.mns.tokenEndpoint,
            accessKeyId: credentials.accessKeyId,
            accessKeySecret: credentials.accessKeySecret,
            onRefresh: (type) => metrics.mnsTokenRefreshes.inc({ type }),
          }),
          intake,
          metrics,
          logger: logger.child({ component: "mns" }),
        })
      : undefined;

  const persistWorker = runsWorker
    ? createPersistWorker({
        config,
        db,
        pool,
        metrics,
        logger: logger.child({ component: "persist" }),
      })
    : undefined;
  const sweeper = runsWorker
    ? createSweeper({
        pool,
        queues,
        logger: logger.child({ component: "sweeper" }),
        ...options.sweep,
      })
    : undefined;

  // Reconciliation against QueryCallDetailByCallId (worker role; marks calls skipped when off).
  const reconciler = runsWorker
    ? createReconciler({
        config,
        pool,
        metrics: metrics.reconcile,
        logger: logger.child({ component: "reconcile" }),
        ...(options.reconcile ? { tuning: options.reconcile } : {}),
      })
    : undefined;

  // Outcome delivery to webhook endpoints (worker role; its own small pool, no Redis).
  const delivery = runsWorker
    ? createDeliveryWorker({
        databaseUrl: config.databaseUrl,
        webhooks: config.webhooks,
        metrics: metrics.delivery,
        logger: logger.child({ component: "delivery" }),
        ...(options.delivery ? { tuning: options.delivery } : {}),
      })
    : undefined;

  // Month partitions of receipts/call_events, created ahead (any role; safe from many processes).
  const partitions = createPartitionMaintainer({
    pool,
    logger: logger.child({ component: "partitions" }),
  });

  let address: string | undefined;
  let stopping: Promise<boolean> | undefined;

  return {
    config,
    metrics,
    intake,
    http,
    sweeper,
    url: () => address,
    async start() {
      if (options.migrate !== false) {
        const result = await runMigrations(pool);
        logger.info({ ...result }, result.applied > 0 ? "migrations applied" : "schema up to date");
      }
      partitions.start();
      persistWorker?.start();
      reconciler?.start();
      sweeper?.start();
      delivery?.start();
      if (runsWorker) {
        logger.info({ role }, "workers started");
      }
      if (http) {
        await http.listen({ host: config.push.host, port: options.port ?? httpPort });
        const a = http.server.address() as AddressInfo;
        const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
        address = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${a.port}`;
        logger.info({ url: address }, "http server listening");
      }
      if (mnsConsumer) {
        mnsConsumer.start();
        logger.info({ queues: config.mns.queues.map((q) => q.queueName) }, "mns consumer polling");
      }
    },
    stop() {
      stopping ??= (async () => {
        const steps: ShutdownStep[] = [];
        if (http) {
          // Stop intake first: new pushes get 503 (Alibaba retries), in-flight ones finish.
          steps.push({ name: "http", run: () => closeHttp(http) });
        }
        if (smartCall) {
          // Rules watcher, answers still being stored in the background, webhook connections.
          steps.push({ name: "smart-call", run: () => smartCall.close() });
        }
        if (mnsConsumer) {
          // Stop polling; batches already received are stored and deleted first.
          steps.push({ name: "mns", run: () => mnsConsumer.stop() });
        }
        if (sweeper) {
          steps.push({ name: "sweeper", run: () => sweeper.stop() });
        }
        if (persistWorker) {
          steps.push({ name: "persist-worker", run: () => persistWorker.stop() });
        }
        if (reconciler) {
          steps.push({ name: "reconciler", run: () => reconciler.stop() });
        }
        if (delivery) {
          steps.push({ name: "delivery", run: () => delivery.stop() });
        }
        steps.push({ name: "observed-queues", run: () => observed.close() });
        steps.push({ name: "queues", run: () => queues.close() });
        steps.push({
          name: "redis",
          run: () => producerRedis.quit().catch(() => producerRedis.disconnect()),
        });
        steps.push({ name: "partitions", run: () => partitions.stop() });
        steps.push({ name: "postgres", run: () => pool.end() });
        const ok = await runShutdown(steps, logger, options.shutdownDeadlineMs ?? 10_000);
        logger.info({ clean: ok }, "stopped");
        return ok;
      })();
      return stopping;
    },
  };
}

/**
 * Close the HTTP server: new requests get 503 (fastify), requests in flight finish. Node's
 * close() reaps only the connections idle at that instant; a keep-alive connection whose request
 * finishes afterwards would hold the server open for its keep-alive timeout (72 s), so idle
 * connections are reaped repeatedly, and whatever is left after the grace period is cut.
 */
async function closeHttp(http: FastifyInstance, graceMs = 5000): Promise<void> {
  const reaper = setInterval(() => http.server.closeIdleConnections(), 50);
  const cutter = setTimeout(() => http.server.closeAllConnections(), graceMs);
  try {
    await http.close();
  } finally {
    clearInterval(reaper);
    clearTimeout(cutter);
  }
}
