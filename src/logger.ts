/**
 * One pino root logger; components take `logger.child({ component })`. Secrets are redacted by
 * path so that a config object, an STS token or a request header can never leak into a line.
 */
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/** Paths (at any of the first two levels) whose values are secrets. */
const SECRET_KEYS = [
  "accessKeySecret",
  "AccessKeySecret",
  "securityToken",
  "SecurityToken",
  "token",
  "pushToken",
  "password",
  "authorization",
  "Authorization",
  '"x-push-token"',
  '"security-token"',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
];

export interface LoggerOptions {
  level: string;
  /** Write somewhere else than stdout (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
