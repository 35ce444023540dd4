import { configSecrets, loadConfig, redactUrl } from "../config/index.js";
import { createLogger } from "../logger.js";
import { createPool } from "../store/db.js";
import { runMigrations } from "../store/migrate.js";

export async function migrateCommand(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.log.level,
    redactNumbers: config.log.redactNumbers,
    secrets: configSecrets(config),
  }).child({ component: "migrate" });
  const pool = createPool(config.databaseUrl, { max: 1, connectionTimeoutMillis: 5000 });
  try {
    const result = await runMigrations(pool);
    logger.info(
      { ...result, database: redactUrl(config.databaseUrl) },
      result.applied > 0 ? "migrations applied" : "database already up to date",
    );
  } finally {
    await pool.end();
  }
}
