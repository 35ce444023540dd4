/**
 * The pool a one-shot command opens: the configuration from its environment, a small pool named
 * after the command (seen in pg_stat_activity), always closed afterwards. Modules load lazily so
 * `--help` stays fast.
 */
import type pg from "pg";

import type { Config } from "../config/index.js";

export async function withPool<T>(
  env: Record<string, string | undefined>,
  pool: { max: number; applicationName: string },
  fn: (pool: pg.Pool, config: Config) => Promise<T>,
): Promise<T> {
  const { loadConfig } = await import("../config/index.js");
  const { createPool } = await import("../store/db.js");
  const config = loadConfig(env);
  const opened = createPool(config.databaseUrl, { ...pool, connectionTimeoutMillis: 5000 });
  try {
    return await fn(opened, config);
  } finally {
    await opened.end().catch(() => {});
  }
}
