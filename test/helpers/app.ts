/**
 * The real daemon, in-process: buildApp over a test database and a random BullMQ prefix,
 * listening on an ephemeral port. Logs are kept in memory for assertions.
 */
import { Writable } from "node:stream";

import { inject } from "vitest";

import { buildApp, type App, type AppOptions } from "../../src/app.js";
import type { Role } from "../../src/app/roles.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";

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
}): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl ?? inject("redisUrl"),
    VMS_QUEUE_PREFIX: opts.prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    LOG_LEVEL: "debug",
    ...opts.env,
  });
  let buffer = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buffer += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: config.log.level, destination });
  const app = await buildApp(config, {
    role: opts.role ?? "all",
    logger,
    migrate: false,
    port: 0,
    ...(opts.sweep ? { sweep: opts.sweep } : {}),
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
