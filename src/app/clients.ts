/**
 * Every connection and client of the daemon, opened once here and injected everywhere else: the
 * PostgreSQL pool, the Redis connections, the BullMQ queues, the Alibaba RPC client and the
 * shared rate limiter. Nothing below src/app/ opens a connection of its own.
 *
 * Redis connections, by role (src/infra/redis.ts):
 *  - `producer` (every role): fail-fast, for enqueues (a push answers 503 at once in an outage,
 *    also when Redis was down at start), /readyz, and the observed queues behind /metrics and
 *    the board; its reachability changes are logged once each (watchRedis);
 *  - `voice-receipts-persist:worker` (worker roles): the persist worker's, waits out outages;
 *  - `voice-receipts-reconcile:worker` (worker roles, reconcile on): the reconcile worker's,
 *    queue, limiter and ProdId memory. The scheduler adds jobs through this connection, not the
 *    producer's, so that an outage makes it wait rather than unschedule and rescan.
 */
import type { Queue } from "bullmq";
import type pg from "pg";

import { createRpcClient } from "../alibaba/openapi.js";
import type { Config } from "../config/index.js";
import { closeRedis, createRedis, watchRedis, type RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import { openObservedQueues } from "../ops/queueMetrics.js";
import { QUEUE_NAMES } from "../pipeline/jobs.js";
import {
  createPrefixBinding,
  type DatabaseIdentity,
  type PrefixBinding,
} from "../pipeline/prefixBinding.js";
import { createPipelineQueues, openQueue, type PipelineQueues } from "../pipeline/queues.js";
import type { ReconcileMetrics } from "../reconcile/metrics.js";
import { createSlidingWindowLimiter } from "../reconcile/limiter.js";
import {
  reconcileWindowMs,
  type ReconcileLink,
  type ReconcilerTuning,
} from "../reconcile/reconciler.js";
import { runsWorker, type Role } from "./roles.js";

export interface Clients {
  producerRedis: RedisConnection;
  /** VMS_QUEUE_PREFIX bound to this database (src/pipeline/prefixBinding.ts). */
  binding: PrefixBinding;
  queues: PipelineQueues;
  /** Every queue of the catalogue, for /metrics and the board. */
  observed: { queues: Queue[]; close(): Promise<void> };
  /** Worker roles only. */
  persistRedis: RedisConnection | undefined;
  /** Worker roles with reconcile on (VMS_RECONCILE=on and credentials) only. */
  reconcile: ReconcileLink | undefined;
}

export function openClients(
  config: Config,
  role: Role,
  deps: {
    pool: pg.Pool;
    identity: DatabaseIdentity;
    metrics: ReconcileMetrics;
    logger: Logger;
    tuning?: ReconcilerTuning;
  },
): Clients {
  const logger = deps.logger.child({ component: "queues" });
  const producerRedis = createRedis(config, "producer");
  // Every role has a producer connection: it is the one witness of Redis's reachability.
  watchRedis(producerRedis, deps.logger.child({ component: "redis" }));
  const binding = createPrefixBinding(producerRedis, config.queuePrefix, deps.identity, (err) =>
    logger.fatal({ err }, "queue prefix belongs to another database; nothing is queued"),
  );
  const queues = createPipelineQueues(config, producerRedis, logger, binding);
  const observed = openObservedQueues(queues.receipts, producerRedis, config.queuePrefix, logger);
  const worker = runsWorker(role);
  const creds = config.reconcile.enabled ? config.credentials : undefined;
  return {
    producerRedis,
    binding,
    queues,
    observed,
    persistRedis: worker ? createRedis(config, "worker", "voice-receipts-persist") : undefined,
    reconcile: worker && creds ? openReconcileLink(config, creds, deps) : undefined,
  };
}

function openReconcileLink(
  config: Config,
  creds: NonNullable<Config["credentials"]>,
  deps: { metrics: ReconcileMetrics; logger: Logger; tuning?: ReconcilerTuning },
): ReconcileLink {
  const { metrics } = deps;
  const logger = deps.logger.child({ component: "reconcile" });
  const t = deps.tuning ?? {};
  const redis = createRedis(config, "worker", "voice-receipts-reconcile");
  metrics.rate.set(config.reconcile.qps);
  return {
    redis,
    queue: openQueue(QUEUE_NAMES.reconcile, redis, config.queuePrefix, logger),
    limiter: createSlidingWindowLimiter({
      redis,
      key: `${config.queuePrefix}:reconcile-limiter`,
      limit: config.reconcile.qps,
      windowMs: reconcileWindowMs(t),
      onRate: (rate) => metrics.rate.set(rate),
      onLate: () => metrics.limiterLate.inc(),
      onCorrected: () => metrics.limiterCorrected.inc(),
      onError: (err) => logger.warn({ err }, "rate limiter: Redis failed"),
    }),
    rpc: createRpcClient({
      endpoint: config.apiEndpoint,
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      timeoutMs: t.apiTimeoutMs ?? 5000,
    }),
  };
}

/** Close the reconcile link after the reconciler stopped (its queue, then its connection). */
export async function closeReconcileLink(link: ReconcileLink): Promise<void> {
  await link.queue.close();
  await closeRedis(link.redis);
}
