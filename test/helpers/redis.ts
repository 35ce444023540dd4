/**
 * Redis isolation: a random, hash-tagged BullMQ prefix per test file, and removal of exactly the
 * keys under it afterwards. Never FLUSHALL a Redis we did not start.
 */
import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";
import { inject } from "vitest";

export function randomPrefix(): string {
  return `{vrt-${randomBytes(5).toString("hex")}}`;
}

export async function deleteKeysWithPrefix(prefix: string): Promise<number> {
  const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) {
        deleted += await redis.del(...keys);
      }
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}
