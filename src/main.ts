/**
 * Composition root of the daemon: config → logger → app → signals. The only place that
 * installs signal handlers.
 */
import { buildApp } from "./app.js";
import type { Role } from "./app/roles.js";
import { configSecrets, describeConfig, loadConfig } from "./config/index.js";
import { createLogger } from "./logger.js";

export async function runDaemon(options: { role: Role }): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.log.level,
    redactNumbers: config.log.redactNumbers,
    secrets: configSecrets(config),
  });
  logger.info({ role: options.role, config: describeConfig(config) }, "voice-receipts starting");
  if (config.push.token === undefined && options.role !== "worker") {
    logger.warn(
      "VMS_PUSH_TOKEN is not set: anyone who can reach the push endpoint can post receipts",
    );
  }

  const app = await buildApp(config, { role: options.role, logger });

  process.on("unhandledRejection", (reason) => {
    logger.fatal(
      { err: reason },
      "unhandled promise rejection; exiting so a supervisor restarts us",
    );
    void app.stop().finally(() => process.exit(1));
  });

  try {
    await app.start();
  } catch (err) {
    logger.error({ err }, "start-up failed");
    await app.stop();
    throw err;
  }

  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logger.warn({ signal }, "second signal: forcing exit");
        process.exit(1);
      }
      signalled = true;
      logger.info({ signal }, "stopping");
      void app.stop().then((clean) => {
        if (!clean) {
          process.exitCode = 1;
        }
        resolve();
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  // Everything we own is closed; do not let a stray handle (an abandoned MNS long poll, a
  // library timer) keep the process alive after a stop.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(process.exitCode ?? 0);
}
