/**
 * Redis connections. Producers (HTTP push, MNS) must fail fast when Redis is down so the push
 * answers 503 within a second and the MNS message stays undeleted; BullMQ workers instead wait
 * and reconnect forever (BullMQ requires maxRetriesPerRequest: null for them).
 */
import { Redis } from "ioredis";

export type RedisRole = "producer" | "worker" | "probe";

export function createRedis(url: string, role: RedisRole, name = "voice-receipts"): Redis {
  // Options are passed inline: ioredis 6's RedisOptions type does not satisfy its own
  // constructor under exactOptionalPropertyTypes.
  const common = {
    connectionName: `${name}:${role}`,
    // Reconnect with a capped backoff; never give up (the daemon runs for months).
    retryStrategy: (times: number) => Math.min(200 * 2 ** Math.min(times, 6), 5000),
    connectTimeout: 2000,
  };
  const redis =
    role === "worker"
      ? new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: true })
      : new Redis(url, {
          ...common,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          commandTimeout: 800,
        });
  // Errors surface through the commands that fail; an unhandled 'error' event would crash us.
  redis.on("error", () => {});
  return redis;
}

/** Whether Redis persists every write before answering (appendonly yes, appendfsync always). */
export async function redisIsDurable(redis: Redis): Promise<boolean> {
  try {
    const aof = (await redis.config("GET", "appendonly")) as string[];
    const fsync = (await redis.config("GET", "appendfsync")) as string[];
    return aof[1] === "yes" && fsync[1] === "always";
  } catch {
    // CONFIG may be disabled (managed Redis): do not assume durability.
    return false;
  }
}
