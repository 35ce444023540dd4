/**
 * The one configuration loader. Every environment variable of the README's "Configuration" is read
 * in src/config/ and nowhere else (tests and drizzle.config.ts excepted). `loadConfig` is pure over
 * the `env` it is given, reports every bad variable at once, and never echoes a secret's value.
 *
 * One file a section (connections, MNS, HTTP, reconcile, SmartCall, recordings, delivery,
 * logging): each holds its variables' validation, its part of `Config` and its own checks, so
 * adding a variable touches its section's file; the parsers they share are in parse.ts.
 */
import { z } from "zod";

import { ConfigError } from "../errors.js";

import { connectionsConfig, connectionsEnv, type ConnectionsConfig } from "./connections.js";
import { deliveryEnv, webhookProblems, webhooksConfig, type WebhooksConfig } from "./delivery.js";
import { httpConfig, httpEnv, type HttpConfig } from "./http.js";
import { logConfig, loggingEnv, type LogConfig } from "./logging.js";
import { mnsConfig, mnsEnv, type MnsConfig } from "./mns.js";
import { reconcileConfig, reconcileEnv, type ReconcileConfig } from "./reconcile.js";
import { recordingsConfig, recordingsEnv, type RecordingsConfig } from "./recordings.js";
import { smartCallConfig, smartCallEnv, type SmartCallConfig } from "./smartCall.js";

export { hasHashTag, splitRedisUrls } from "./connections.js";
export { configSecrets, describeConfig, redactUrl } from "./logging.js";
export type { MnsQueueConfig } from "./mns.js";
export type { ReconcilePolicy } from "./reconcile.js";
export type { RecordingStoreConfig } from "./recordings.js";
export { SMART_CALL_ACTIONS } from "./smartCall.js";

const envSchema = z.object({
  ...connectionsEnv,
  ...mnsEnv,
  ...httpEnv,
  ...reconcileEnv,
  ...smartCallEnv,
  ...recordingsEnv,
  ...deliveryEnv,
  ...loggingEnv,
});

export interface Config extends ConnectionsConfig, HttpConfig {
  mns: MnsConfig;
  /** QueryCallDetailByCallId's endpoint (dyvmsapi). */
  apiEndpoint: string;
  reconcile: ReconcileConfig;
  smartCall: SmartCallConfig;
  recordings: RecordingsConfig;
  webhooks: WebhooksConfig;
  log: LogConfig;
}

const invalid = (lines: string[]) => new ConfigError(`invalid configuration:\n${lines.join("\n")}`);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      return `  ${name}: ${issue.message}`;
    });
    // The webhook endpoints are checked after the schema; report theirs now too.
    throw invalid([...lines, ...webhookProblems(env)]);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const connections = connectionsConfig(e, problems);
  const config: Config = {
    ...connections,
    mns: mnsConfig(e, connections.credentials, problems),
    apiEndpoint: e.VMS_API_ENDPOINT,
    ...httpConfig(e, problems),
    reconcile: reconcileConfig(e, connections.credentials, problems),
    smartCall: smartCallConfig(e),
    recordings: recordingsConfig(e),
    webhooks: webhooksConfig(e, problems),
    log: logConfig(e),
  };
  if (problems.length > 0) {
    throw invalid(problems);
  }
  return config;
}
