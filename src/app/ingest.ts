/**
 * The ingest part (roles `all` and `ingest`): the HTTP push routes, the smart-call callback, the
 * queue board, and the MNS consumer. buildIngest returns the routes for the HTTP server and the
 * components to start after it, in stop order.
 */
import type pg from "pg";

import type { Config } from "../config/index.js";
import type { Logger } from "../logger.js";
import { registerQueueBoard } from "../ops/board.js";
import { registerCallExplorer } from "../ui/index.js";
import type { Metrics } from "../ops/metrics.js";
import type { Intake } from "../pipeline/intake.js";
import type { ObjectStore } from "../recordings/objectStore.js";
import { registerSmartCallRoute } from "../smartcall/route.js";
import { anyEndpointWants } from "../delivery/endpointsConfig.js";
import { createSmartCallService, type SmartCallService } from "../smartcall/service.js";
import { registerPushRoutes } from "../sources/http/pushRoute.js";
import { createMnsConsumer } from "../sources/mns/consumer.js";
import { createTokenProvider } from "../sources/mns/tokens.js";
import type { Clients } from "./clients.js";
import type { Component } from "./component.js";
import type { Route } from "./http.js";

/**
 * The smart-call service, opened before any Redis connection: a bad VMS_SMART_CALL_RULES file is
 * a ConfigError here with only the pool to undo.
 */
export async function openSmartCall(
  config: Config,
  pool: pg.Pool,
  metrics: Metrics,
  logger: Logger,
): Promise<SmartCallService> {
  return createSmartCallService({
    config: config.smartCall,
    pool,
    metrics: metrics.smartCall,
    logger: logger.child({ component: "smart-call" }),
    emitDialogueTurns: anyEndpointWants(config.webhooks.endpoints, "dialogue.turn"),
  }).catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });
}

export interface IngestDeps {
  config: Config;
  pool: pg.Pool;
  clients: Clients;
  intake: Intake;
  smartCall: SmartCallService;
  metrics: Metrics;
  logger: Logger;
  /** Where recordings are kept, for the explorer's player; undefined when the store is off. */
  recordingStore: ObjectStore | undefined;
}

export function buildIngest(deps: IngestDeps): { routes: Route[]; components: Component[] } {
  const { config, pool, intake, smartCall, metrics, logger } = deps;
  const adminToken = config.adminToken;
  const routes: Route[] = [
    (app) =>
      registerPushRoutes(app, {
        intake,
        metrics,
        token: config.push.token,
        logger: logger.child({ component: "push" }),
        bodyLimitBytes: config.push.bodyLimitBytes,
        maxBytesInFlight: config.push.maxBytesInFlight,
      }),
    (app) =>
      registerSmartCallRoute(app, {
        service: smartCall,
        token: config.push.token,
        metrics: metrics.smartCall,
        logger: logger.child({ component: "smart-call" }),
        reject: (rows) => intake.reject(rows),
      }),
  ];
  // Admin pages, only when VMS_ADMIN_TOKEN is set: the queue board (src/ops/board.ts) and the
  // call explorer (src/ui).
  if (adminToken) {
    const queues = deps.clients.observed.queues;
    routes.push((app) => registerQueueBoard(app, { token: adminToken, queues }));
    routes.push((app) =>
      registerCallExplorer(app, {
        token: adminToken,
        pool,
        logger,
        recordingStore: deps.recordingStore,
      }),
    );
  }

  const components: Component[] = [
    // Rules watcher, answers still being stored in the background, webhook connections.
    { name: "smart-call", start: () => {}, stop: () => smartCall.close() },
  ];
  const mns = buildMnsConsumer(deps);
  if (mns) {
    components.push(mns);
  }
  return { routes, components };
}

/** The MNS consumer, when queues and credentials are configured. */
function buildMnsConsumer(deps: IngestDeps): Component | undefined {
  const { config, intake, metrics, logger } = deps;
  const credentials = config.credentials;
  if (config.mns.queues.length === 0 || !credentials) {
    return undefined;
  }
  const consumer = createMnsConsumer({
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
  });
  return {
    name: "mns",
    start() {
      consumer.start();
      logger.info({ queues: config.mns.queues.map((q) => q.queueName) }, "mns consumer polling");
    },
    // Stop polling; batches already received are stored and deleted first.
    stop: () => consumer.stop(),
  };
}
