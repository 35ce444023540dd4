/**
 * PostgreSQL pool and drizzle instance. One pool per process; callers pass it down.
 */
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";

import * as schema from "./schema.js";

export type Db = NodePgDatabase<typeof schema>;

export interface PoolOptions {
  max?: number;
  /** Fail fast when PostgreSQL is down so ingest can answer 503 within a second. */
  connectionTimeoutMillis?: number;
  applicationName?: string;
}

export function createPool(databaseUrl: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 800,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? "voice-receipts",
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query reconnects.
  pool.on("error", () => {});
  // A checked-out client (pool.connect() callers: persist, partitions, migrate) losing its
  // connection emits 'error' on the client itself, with no pool listener attached while it is
  // out: an uncaught exception that would kill the daemon. The query in flight rejects on its
  // own and its caller handles that, so this listener only keeps the process alive.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}
