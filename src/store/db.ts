/**
 * The PostgreSQL pool. One pool per process; callers pass it down.
 *
 * No drizzle query builder: every statement in src/store is hand-written SQL, because the hot
 * paths need set-based statements drizzle cannot express (rows sent as one JSON or UNNEST
 * parameter, data-modifying CTEs, ON CONFLICT rules per column, FOR UPDATE SKIP LOCKED over a
 * sub-select) and named prepared statements. schema.ts stays: drizzle-kit reads it, and its
 * inferred row types keep the SQL's column lists honest (calls/columns.ts).
 */
import pg from "pg";

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
