/**
 * Redis connections. Producers (HTTP push, MNS) must fail fast when Redis is down so the push
 * answers 503 within a second and the MNS message stays undeleted; BullMQ workers instead wait
 * and reconnect forever (BullMQ requires maxRetriesPerRequest: null for them).
 *
 * A single Redis or a Redis Cluster (REDIS_URL with several comma-separated seed nodes, or
 * REDIS_CLUSTER=on): the same roles, as an ioredis `Cluster`. Everything we store shares the
 * hash tag of VMS_QUEUE_PREFIX (config.ts refuses a prefix without one on a cluster), so every
 * multi-key script (BullMQ's, our limiter's) stays in one slot.
 */
import { Cluster, Redis } from "ioredis";

import { splitRedisUrls } from "../config.js";

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
