/**
 * The worker part (roles `all` and `worker`): the sweeper, the persist worker, the
 * reconciler, the recording fetcher and outcome delivery, as a list of components in stop order (the sweeper first, so it enqueues nothing
 * into workers that are closing). Each closes the connections it was given after it stopped.
 * A new worker-role feature adds one component to this list.
 */
import type pg from "pg";

import type { Config } from "../config/index.js";
import { createDeliveryWorker, type DeliveryTuning } from "../delivery/worker.js";
import { createPool } from "../store/db.js";
import { closeRedis } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../ops/metrics.js";
import { createPersistWorker } from "../pipeline/persistWorker.js";
import { createSweeper } from "../pipeline/sweeper.js";
import { createReconciler, type ReconcilerTuning } from "../reconcile/reconciler.js";
import { createRecordingFetcher, type FetcherTuning } from "../recordings/fetcher.js";
import type { ObjectStore } from "../recordings/objectStore.js";
import { closeReconcileLink, type Clients } from "./clients.js";
import type { Component } from "./component.js";

export interface WorkerDeps {
  config: Config;
  pool: pg.Pool;
  clients: Clients;
  metrics: Metrics;
  logger: Logger;
  sweep?: { intervalMs?: number; graceMs?: number };
  reconcile?: ReconcilerTuning;
  /** Where recordings are kept; undefined when VMS_RECORDINGS_STORE is off. */
  recordingStore: ObjectStore | undefined;
  recordings?: FetcherTuning;
  delivery?: DeliveryTuning;
}

export interface WorkerPart {
  components: Component[];
  /** Tests call sweepOnce() directly. */
  sweeper: { sweepOnce(): Promise<number> };
}

export function buildWorker(deps: WorkerDeps): WorkerPart {
  const { config, pool, clients, metrics, logger } = deps;
  const sweeper = createSweeper({
    pool,
    queues: clients.queues,
    logger: logger.child({ component: "sweeper" }),
    ...deps.sweep,
  });
  const persistRedis = clients.persistRedis;
  if (!persistRedis) {
    throw new TypeError("buildWorker: the clients were opened for a role without workers");
  }
  const persist = createPersistWorker({
    config,
    connection: persistRedis,
    pool,
    metrics,
    logger: logger.child({ component: "persist" }),
  });
  // Reconciliation against QueryCallDetailByCallId (marks calls skipped when off).
  const link = clients.reconcile;
  const reconciler = createReconciler({
    config,
    pool,
    link,
    metrics: metrics.reconcile,
    logger: logger.child({ component: "reconcile" }),
    ...(deps.reconcile ? { tuning: deps.reconcile } : {}),
  });
  const recordings = createRecordingFetcher({
    config,
    pool,
    store: deps.recordingStore,
    metrics: metrics.recordings,
    logger: logger.child({ component: "recordings" }),
    ...(deps.recordings ? { tuning: deps.recordings } : {}),
  });
  // Outcome delivery to webhook endpoints: its own small pool and LISTEN connection, no Redis.
  const deliveryPool = createPool(config.databaseUrl, {
    max: 4,
    connectionTimeoutMillis: 5000,
    applicationName: "voice-receipts delivery",
  });
  const delivery = createDeliveryWorker({
    databaseUrl: config.databaseUrl,
    pool: deliveryPool,
    webhooks: config.webhooks,
    metrics: metrics.delivery,
    logger: logger.child({ component: "delivery" }),
    ...(deps.delivery ? { tuning: deps.delivery } : {}),
  });
  let stopped = false;
  // Consume only under a prefix bound to this database (at once when Redis is there).
  const startWhenBound = (start: () => void) => () => {
    void clients.binding.whenBound().then(() => {
      if (!stopped) {
        start();
      }
    });
  };
  return {
    sweeper,
    components: [
      { name: "sweeper", start: () => sweeper.start(), stop: () => sweeper.stop() },
      {
        name: "persist-worker",
        start: startWhenBound(() => persist.start()),
        stop: async () => {
          stopped = true;
          await persist.stop();
          await closeRedis(persistRedis);
        },
      },
      {
        name: "reconciler",
        start: startWhenBound(() => reconciler.start()),
        stop: async () => {
          stopped = true;
          await reconciler.stop();
          if (link) {
            await closeReconcileLink(link);
          }
        },
      },
      { name: "recordings", start: () => recordings.start(), stop: () => recordings.stop() },
      {
        name: "delivery",
        start: () => delivery.start(),
        stop: async () => {
          await delivery.stop();
          await deliveryPool.end();
        },
      },
    ],
  };
}
