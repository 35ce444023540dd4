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

/**
 * `name=value` pairs whose value is a credential, as they appear in URLs and messages (a push
 * URL's `?token=`, a signed RPC query's `Signature=`/`SecurityToken=`, `password=`), and the
 * password of a `scheme://user:password@host` URL.
 */
const SECRET_PAIR =
  /\b(token|pushToken|accessKeySecret|AccessKeySecret|SecurityToken|securityToken|Signature|password|secret)=([^&\s"'<>]+)/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]+@/gi;

/** The text with every known secret value and every credential-looking pair replaced. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    out = out.split(secret).join("[redacted]");
  }
  return out.replace(SECRET_PAIR, "$1=[redacted]").replace(URL_PASSWORD, "$1:[redacted]@");
}

/** Every string in a serialized error (message, stack, causes, own fields), scrubbed. */
function scrubDeep(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === "string") {
    return scrubSecrets(value, secrets);
  }
  if (depth > 4 || value === null || typeof value !== "object") {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => scrubDeep(v, secrets, depth + 1));
  }
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets, depth + 1)]),
  );
}

export interface LoggerOptions {
  level: string;
  /**
   * Secret values known to this process (push/admin tokens, the AccessKey secret, passwords):
   * path redaction cannot see them inside an error's message or stack, so the `err` serializer
   * removes them there.
   */
  secrets?: readonly (string | undefined)[];
  /** Mask phone numbers (LOG_REDACT_NUMBERS=on). */
  redactNumbers?: boolean;
  /** Write somewhere else than stdout (tests). */
  destination?: NodeJS.WritableStream;
}

const censorSecret = (value: unknown) => (value === null ? "unset" : "[redacted]");

export function createLogger(options: LoggerOptions): Logger {
  // Short values would blank out ordinary words; a real secret is longer.
  const secrets = (options.secrets ?? []).filter(
    (s): s is string => s !== undefined && s.length >= 6,
  );
  return pino(
    {
      level: options.level,
      // pino's own error serializer (type, message, stack, cause chain), then scrubbed.
      serializers: {
        err: (err: unknown) => scrubDeep(pino.stdSerializers.err(err as Error), secrets),
      },
      base: { pid: process.pid },
      // A secret that is not set at all (null, as describeConfig gives it) shows as `unset`:
      // `[redacted]` there would send an operator looking for a value that does not exist.
      redact: options.redactNumbers
        ? {
            paths: [...REDACT_PATHS, ...NUMBER_PATHS],
            censor: (value: unknown, path: string[]) =>
              NUMBER_KEYS.includes(path[path.length - 1] ?? "")
                ? maskNumber(value)
                : censorSecret(value),
          }
        : { paths: REDACT_PATHS, censor: censorSecret },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
