/**
 * Configuration of the connections every role opens: PostgreSQL, Redis (one node or a cluster)
 * with the BullMQ key prefix, and the Alibaba Cloud credentials.
 */
import { z } from "zod";

import {
  emptyAsUndefined,
  isUrlWith,
  onOff,
  optionalString,
  splitList,
  url,
  type Parsed,
} from "./parse.js";

/**
 * REDIS_URL: one `redis://` URL, or a comma list of them naming the seed nodes of a Redis
 * Cluster (any few masters; ioredis discovers the rest). Kept as the string it was given.
 */
const redisUrls = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default("redis://127.0.0.1:6379")
    .refine((s) => splitRedisUrls(s).every((u) => isUrlWith(u, ["redis:", "rediss:"])), {
      message:
        "must be a redis:// or rediss:// URL, or a comma list of them (the seed nodes of a Redis Cluster)",
    }),
);

/** The nodes of REDIS_URL (one for a single Redis, the seeds of a cluster). */
export const splitRedisUrls = splitList;

/**
 * Redis Cluster keeps a multi-key command (every BullMQ script, our limiter) in one slot only
 * when its keys share a hash tag: the text between the first `{` and the next `}`, non-empty.
 */
export function hasHashTag(prefix: string): boolean {
  return /^[^{]*\{[^}]+\}/.test(prefix);
}

export const connectionsEnv = {
  DATABASE_URL: url("postgres://postgres@127.0.0.1:5432/postgres", ["postgres:", "postgresql:"]),
  REDIS_URL: redisUrls,
  REDIS_CLUSTER: onOff,
  VMS_QUEUE_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default("{vr}")
      .refine((s) => !s.includes(":") && s.length <= 64, {
        message: "must be at most 64 characters without ':'",
      }),
  ),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalString,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalString,
};

export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface ConnectionsConfig {
  databaseUrl: string;
  /** REDIS_URL as given: one URL, or a comma list of cluster seed nodes. */
  redisUrl: string;
  /** Use ioredis Cluster: REDIS_URL names several nodes, or REDIS_CLUSTER=on. */
  redisCluster: boolean;
  /** BullMQ key prefix; hash-tagged by default so every key lands in one Redis Cluster slot. */
  queuePrefix: string;
  credentials: AlibabaCredentials | undefined;
}

/** The connections' settings; their problems (each a line naming the variable) go to `problems`. */
export function connectionsConfig(
  e: Parsed<typeof connectionsEnv>,
  problems: string[],
): ConnectionsConfig {
  const hasId = e.ALIBABA_CLOUD_ACCESS_KEY_ID !== undefined;
  const hasSecret = e.ALIBABA_CLOUD_ACCESS_KEY_SECRET !== undefined;
  if (hasId !== hasSecret) {
    problems.push(
      "  ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET: set both or neither",
    );
  }
  const nodes = splitRedisUrls(e.REDIS_URL).length;
  const redisCluster = e.REDIS_CLUSTER ?? nodes > 1;
  if (!redisCluster && nodes > 1) {
    problems.push(
      "  REDIS_URL: several nodes are a Redis Cluster; REDIS_CLUSTER=off needs exactly one URL",
    );
  }
  if (redisCluster && !hasHashTag(e.VMS_QUEUE_PREFIX)) {
    problems.push(
      `  VMS_QUEUE_PREFIX: on a Redis Cluster the prefix needs a {hash tag} so that every key of a queue shares one slot, e.g. {vr}; got "${e.VMS_QUEUE_PREFIX}"`,
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisCluster,
    queuePrefix: e.VMS_QUEUE_PREFIX,
    credentials:
      hasId && hasSecret
        ? {
            accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID as string,
            accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET as string,
          }
        : undefined,
  };
}
