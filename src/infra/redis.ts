/**
 * Redis connections. Producers (HTTP push, MNS) must fail fast when Redis is down so the push
 * answers 503 within a second and the MNS message stays undeleted; BullMQ workers instead wait
 * and reconnect forever (BullMQ requires maxRetriesPerRequest: null for them).
 *
 * A single Redis or a Redis Cluster (REDIS_URL with several comma-separated seed nodes, or
 * REDIS_CLUSTER=on): the same roles, as an ioredis `Cluster`. Everything we store shares the
 * hash tag of VMS_QUEUE_PREFIX (src/config/connections.ts refuses a prefix without one on a
 * cluster), so every multi-key script (BullMQ's, our limiter's) stays in one slot.
 */
import { Cluster, Redis } from "ioredis";

import { splitRedisUrls } from "../config/index.js";
import type { Logger } from "../logger.js";

export type RedisRole = "producer" | "worker" | "probe";

/** What every part of the daemon accepts: BullMQ and our scripts work on both. */
export type RedisConnection = Redis | Cluster;

/** Where Redis is: a URL (or comma list of seed nodes), and whether it is a cluster. */
export type RedisTarget = string | { redisUrl: string; redisCluster: boolean };

// Reconnect with a capped backoff; never give up (the daemon runs for months).
const retry = (times: number) => Math.min(200 * 2 ** Math.min(times, 6), 5000);

function roleOptions(role: RedisRole) {
  return role === "worker"
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 800 };
}

export function createRedis(
  target: RedisTarget,
  role: RedisRole,
  name = "voice-receipts",
): RedisConnection {
  const url = typeof target === "string" ? target : target.redisUrl;
  const urls = splitRedisUrls(url);
  const cluster = typeof target === "string" ? urls.length > 1 : target.redisCluster;
  const connectionName = `${name}:${role}`;
  const redis: RedisConnection = cluster
    ? createCluster(urls, role, connectionName)
    : // Options are passed inline: ioredis 6's RedisOptions type does not satisfy its own
      // constructor under exactOptionalPropertyTypes.
      new Redis(urls[0] ?? url, {
        connectionName,
        retryStrategy: retry,
        connectTimeout: 2000,
        ...roleOptions(role),
      });
  // Errors surface through the commands that fail; an unhandled 'error' event would crash us.
  redis.on("error", () => {});
  return redis;
}

/**
 * Seeds from the URLs; credentials and TLS (rediss:) from the first one apply to every node
 * (a cluster has one password). The per-command options go to each node's connection
 * (`redisOptions`), where BullMQ looks for maxRetriesPerRequest: null; producers also refuse
 * to queue commands cluster-wide while no node is reachable.
 */
function createCluster(urls: string[], role: RedisRole, connectionName: string): Cluster {
  const first = new URL(urls[0] ?? "redis://127.0.0.1:6379");
  const nodes = urls.map((u) => {
    const p = new URL(u);
    return { host: p.hostname, port: Number(p.port || 6379) };
  });
  const { enableOfflineQueue, ...perNode } = {
    enableOfflineQueue: true,
    ...roleOptions(role),
  };
  return new Cluster(nodes, {
    clusterRetryStrategy: retry,
    enableOfflineQueue,
    enableReadyCheck: true,
    // A producer must not wait out a cluster that is down: fail the command, answer 503.
    ...(role === "worker" ? {} : { retryDelayOnClusterDown: 100, maxRedirections: 4 }),
    redisOptions: {
      connectionName,
      connectTimeout: 2000,
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === "rediss:" ? { tls: {} } : {}),
      ...perNode,
    },
  });
}

/** Whether the connection can run commands now (a Cluster is ready once its slots are known). */
export function redisIsReady(redis: RedisConnection): boolean {
  return redis.status === "ready";
}

/**
 * Resolves true once the connection is ready, false after `timeoutMs` without it (it goes on
 * reconnecting). Start-up waits this long at most: a Redis missing at start must not hold
 * the daemon, which then answers 503 as it does when Redis is lost mid-run.
 */
export async function waitForReady(redis: RedisConnection, timeoutMs: number): Promise<boolean> {
  if (redisIsReady(redis)) {
    return true;
  }
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on("ready", onReady);
  });
}

/**
 * Errors that only say the connection is down (refused, reset, timed out, closed, offline
 * queue off): the outage itself, which watchRedis reports once per change, not failures of a
 * command worth a line each.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) {
    return false;
  }
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(
      code,
    ) ||
    /Connection is closed|Stream isn't writeable|Command timed out|connect ETIMEDOUT|ClusterAllFailedError|Failed to refresh slots cache|None of startup nodes is available/i.test(
      err.message,
    )
  );
}

/**
 * One log line per change of reachability, whether Redis is missing at start or lost mid-run:
 * `redis unreachable` (with the error that told us) and `redis reachable again`. ioredis emits
 * an error at every reconnect attempt; those in between are the same outage.
 */
export function watchRedis(redis: RedisConnection, logger: Logger): void {
  let state: "unknown" | "up" | "down" = "unknown";
  redis.on("ready", () => {
    if (state === "down") {
      logger.info("redis reachable again");
    }
    state = "up";
  });
  redis.on("error", (err: unknown) => {
    if (state !== "down") {
      state = "down";
      // Pushes answer 503 and MNS messages stay undeleted until it is back.
      logger.warn({ err }, "redis unreachable");
    }
  });
}

/** Close politely, or cut the connection when Redis does not answer. */
export async function closeRedis(redis: RedisConnection): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

/**
 * Whether Redis persists every write before answering (appendonly yes, appendfsync always):
 * on a cluster, only if every master does.
 */
export async function redisIsDurable(redis: RedisConnection): Promise<boolean> {
  const servers: Redis[] = redis instanceof Cluster ? redis.nodes("master") : [redis];
  if (servers.length === 0) {
    return false;
  }
  try {
    for (const server of servers) {
      const aof = (await server.config("GET", "appendonly")) as string[];
      const fsync = (await server.config("GET", "appendfsync")) as string[];
      if (aof[1] !== "yes" || fsync[1] !== "always") {
        return false;
      }
    }
    return true;
  } catch {
    // CONFIG may be disabled (managed Redis): do not assume durability.
    return false;
  }
}
