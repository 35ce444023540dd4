/**
 * Readiness: PostgreSQL answers, the schema is migrated, Redis answers. Each probe has a short
 * timeout so /readyz itself answers within about a second.
 */
import type pg from "pg";

import type { RedisConnection } from "../infra/redis.js";
import { migrationsUpToDate } from "../store/migrate.js";

export interface ReadinessReport {
  ready: boolean;
  checks: Record<"postgres" | "migrations" | "redis", "ok" | string>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      t.unref();
    }),
  ]);
}

export function createReadiness(pool: pg.Pool, redis: RedisConnection) {
  let migrated = false;
  return async function check(): Promise<ReadinessReport> {
    const checks: ReadinessReport["checks"] = {
      postgres: "ok",
      migrations: "ok",
      redis: "ok",
    };
    try {
      await withTimeout(pool.query("select 1"), 900, "postgres");
      if (!migrated) {
        migrated = await withTimeout(migrationsUpToDate(pool), 900, "postgres");
        if (!migrated) {
          checks.migrations = "pending migrations";
        }
      }
    } catch (err) {
      checks.postgres = (err as Error).message || "unreachable";
      if (!migrated) {
        checks.migrations = "unknown";
      }
    }
    try {
      const pong = await withTimeout(redis.ping(), 900, "redis");
      if (pong !== "PONG") {
        checks.redis = `unexpected answer ${pong}`;
      }
    } catch (err) {
      checks.redis = (err as Error).message || "unreachable";
    }
    return { ready: Object.values(checks).every((v) => v === "ok"), checks };
  };
}
