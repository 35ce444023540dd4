/**
 * The real daemon, in-process: buildApp over a test database and a random BullMQ prefix,
 * listening on an ephemeral port. Logs are kept in memory for assertions.
 */
import { Writable } from "node:stream";

import { inject } from "vitest";

import { buildApp, type App, type AppOptions } from "../../src/app.js";
import type { Role } from "../../src/app/roles.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import { recordSuiteLog, registerSuiteSecrets } from "./suiteLogs.js";

export interface TestApp {
  app: App;
  url: string;
  logs: () => string;
  stop(): Promise<void>;
}

export async function startTestApp(opts: {
  databaseUrl: string;
  prefix: string;
  role?: Role;
  env?: Record<string, string>;
  redisUrl?: string;
  sweep?: AppOptions["sweep"];
  recordings?: AppOptions["recordings"];
  delivery?: AppOptions["delivery"];
}): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl ?? inject("redisUrl"),
    VMS_QUEUE_PREFIX: opts.prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    LOG_LEVEL: "debug",
    ...opts.env,
  });
  // No log line of the whole run may carry these (test/global-setup.ts greps for them).
  registerSuiteSecrets([
    opts.env?.VMS_PUSH_TOKEN,
    opts.env?.VMS_ADMIN_TOKEN,
    opts.env?.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  ]);
  let buffer = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      buffer += text;
      recordSuiteLog(text);
      cb();
    },
  });
  const logger = createLogger({
    level: config.log.level,
    redactNumbers: config.log.redactNumbers,
    destination,
  });
  const app = await buildApp(config, {
    role: opts.role ?? "all",
    logger,
    migrate: false,
    port: 0,
    ...(opts.sweep ? { sweep: opts.sweep } : {}),
    ...(opts.recordings ? { recordings: opts.recordings } : {}),
    ...(opts.delivery ? { delivery: opts.delivery } : {}),
  });
  try {
    await app.start();
  } catch (err) {
    // As main.ts does: a start that fails closes what it opened.
    await app.stop();
    throw err;
  }
  return {
    app,
    url: app.url() ?? "",
    logs: () => buffer,
    async stop() {
      await app.stop();
    },
  };
}
