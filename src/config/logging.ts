/**
 * Configuration of logging, and the configuration as logs may show it: the secrets the logger
 * scrubs from error messages, and a description with every secret and password redacted.
 */
import { z } from "zod";

import { redactEndpoint } from "../delivery/endpointsConfig.js";

import { splitRedisUrls } from "./connections.js";
import type { Config } from "./index.js";
import { lowerCased, onOff, type Parsed } from "./parse.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const loggingEnv = {
  LOG_LEVEL: z.preprocess(
    lowerCased,
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  ),
  LOG_REDACT_NUMBERS: onOff,
};

export interface LogConfig {
  level: (typeof LOG_LEVELS)[number];
  redactNumbers: boolean;
}

export function logConfig(e: Parsed<typeof loggingEnv>): LogConfig {
  return { level: e.LOG_LEVEL, redactNumbers: e.LOG_REDACT_NUMBERS ?? false };
}

/** The secret values of a configuration, for the logger to scrub from error messages. */
export function configSecrets(config: Config): string[] {
  const passwords = [config.databaseUrl, ...splitRedisUrls(config.redisUrl)].map((u) => {
    try {
      return decodeURIComponent(new URL(u).password);
    } catch {
      return "";
    }
  });
  return [
    config.push.token,
    config.adminToken,
    config.credentials?.accessKeySecret,
    config.recordings.s3.credentials?.secretAccessKey,
    config.recordings.s3.credentials?.sessionToken,
    ...passwords,
    ...config.webhooks.endpoints.map((e) => e.secret),
  ].filter((s): s is string => s !== undefined && s !== "");
}

/** Strip the password from a connection URL so it can be logged. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) {
      u.password = "***";
    }
    return u.toString();
  } catch {
    return "<unparseable url>";
  }
}

/** The configuration as it may appear in a log line: no secrets, no passwords. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    databaseUrl: redactUrl(config.databaseUrl),
    redisUrl: splitRedisUrls(config.redisUrl).map(redactUrl).join(","),
    redisCluster: config.redisCluster,
    queuePrefix: config.queuePrefix,
    accessKeyId: config.credentials ? config.credentials.accessKeyId : "(none)",
    // null when unset: the logger's redaction shows it as `unset`, a set one as `[redacted]`.
    accessKeySecret: config.credentials ? "(set)" : null,
    mns: config.mns,
    apiEndpoint: config.apiEndpoint,
    push: { ...config.push, token: config.push.token === undefined ? null : "(set)" },
    adminToken: config.adminToken === undefined ? "(none)" : "(set)",
    reconcile: config.reconcile,
    smartCall: {
      ...config.smartCall,
      // A webhook URL often carries its own credential (user:pass@ or ?token=).
      forwardUrl:
        config.smartCall.forwardUrl === undefined
          ? "(none)"
          : redactUrl(config.smartCall.forwardUrl).replace(/\?.*$/, "?***"),
    },
    recordings: {
      ...config.recordings,
      s3: {
        ...config.recordings.s3,
        credentials: config.recordings.s3.credentials ? "(set)" : "(SDK default chain)",
      },
    },
    webhooks: {
      ...config.webhooks,
      endpoints: config.webhooks.endpoints.map((w) => ({
        ...w,
        url: redactEndpoint(w.url),
        secret: "(set)",
      })),
    },
    log: config.log,
  };
}
