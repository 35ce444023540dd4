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
  "x-push-token",
  "security-token",
];

/** fast-redact paths for a key at the top level and one or two levels down. */
const atAnyOfThreeLevels = (keys: readonly string[]) =>
  keys.flatMap((k) => {
    const seg = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`;
    const top = seg.startsWith(".") ? k : seg;
    return [top, `*${seg}`, `*.*${seg}`];
  });

export const REDACT_PATHS = atAnyOfThreeLevels(SECRET_KEYS);

/** Phone-number fields, masked to their last four digits when LOG_REDACT_NUMBERS=on. */
const NUMBER_KEYS = ["caller", "callee", "caller_show_num", "callee_show_num", "phone", "number"];
const NUMBER_PATHS = atAnyOfThreeLevels(NUMBER_KEYS);

/** `13812345678` → `*******5678`; short values are masked whole. */
export function maskNumber(value: unknown): string {
  const s = String(value);
  return s.length <= 4 ? "*".repeat(s.length) : `${"*".repeat(s.length - 4)}${s.slice(-4)}`;
}

export interface LoggerOptions {
  level: string;
  /** Mask phone numbers (LOG_REDACT_NUMBERS=on). */
  redactNumbers?: boolean;
  /** Write somewhere else than stdout (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: options.redactNumbers
        ? {
            paths: [...REDACT_PATHS, ...NUMBER_PATHS],
            censor: (value: unknown, path: string[]) =>
              NUMBER_KEYS.includes(path[path.length - 1] ?? "") ? maskNumber(value) : "[redacted]",
          }
        : { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
