/**
 * The one configuration loader. Every environment variable of the README's "Configuration" is read
 * here and nowhere else (tests and drizzle.config.ts excepted). `loadConfig` is pure over the `env`
 * it is given, reports every bad variable at once, and never echoes a secret's value.
 *
 * Over 300 lines on purpose: each variable's validation, its place in `Config`, its secrets and
 * its redacted description sit in one file, so adding a variable touches one file.
 */
import { resolve as resolvePath } from "node:path";

import { z } from "zod";

import {
  loadEndpoints,
  parseDuration,
  parseRetrySchedule,
  redactEndpoint,
  type WebhookEndpoint,
} from "./delivery/endpointsConfig.js";
import { HOUR, SECOND } from "./domain/time.js";
import { ConfigError } from "./errors.js";

/** Actions a SmartCall callback may answer (docs/alibaba.md §1.6). */
export const SMART_CALL_ACTIONS = [
  "play",
  "break",
  "continue",
  "hangup",
  "transfer",
  "donothing",
  "dtmf",
  "parallel_transfer",
  "parallel_bridge",
] as const;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

function intInRange<F extends number | undefined>(min: number, max: number, fallback: F) {
  return z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .optional()
      .transform((s, ctx): number | F => {
        if (s === undefined) {
          return fallback;
        }
        const n = Number(s.trim());
        if (!/^-?\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
          ctx.addIssue({
            code: "custom",
            message: `must be a whole number from ${min} to ${max}, got "${s}"`,
          });
          return z.NEVER;
        }
        return n;
      }),
  );
}

function url(fallback: string, protocols: readonly string[]) {
  return z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(fallback)
      .refine(
        (s) => {
          try {
            return protocols.includes(new URL(s).protocol);
          } catch {
            return false;
          }
        },
        { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}` },
      ),
  );
}

/** An HTTP(S) endpoint without trailing slash: @alicloud/mns signs `/queues/…` but would send `//queues/…`. */
function endpoint(fallback: string) {
  return url(fallback, ["http:", "https:"]).transform((s) => s.replace(/\/+$/, ""));
}

const onOff = z.preprocess(
  (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : v),
  z
    .enum(["on", "off", "true", "false", "1", "0", "yes", "no"], {
      message: "must be on or off",
    })
    .optional()
    .transform((v) => (v === undefined ? undefined : ["on", "true", "1", "yes"].includes(v))),
);

export interface MnsQueueConfig {
  messageType: string;
  queueName: string;
}

const mnsQueues = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((s, ctx): MnsQueueConfig[] => {
      if (s === undefined) {
        return [];
      }
      const out: MnsQueueConfig[] = [];
      for (const part of s
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const m = /^([A-Za-z][A-Za-z0-9]*):([A-Za-z0-9-]{1,256})$/.exec(part);
        if (!m) {
          ctx.addIssue({
            code: "custom",
            message: `must be a comma list of MessageType:QueueName (e.g. VoiceReport:Alicom-Queue-1234567890123456-VoiceReport), got "${part}"`,
          });
          return z.NEVER;
        }
        out.push({ messageType: m[1] as string, queueName: m[2] as string });
      }
      return out;
    }),
);

/** A text setting with a default, turned into its value by `parse` or refused with its problem. */
function parsedText<T>(
  defaultValue: string,
  parse: (s: string) => { ok: true; value: T } | { ok: false; problem: string },
) {
  return z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(defaultValue)
      .transform((s, ctx) => {
        const r = parse(s);
        if (!r.ok) {
          ctx.addIssue({ code: "custom", message: r.problem });
          return z.NEVER;
        }
        return r.value;
      }),
  );
}

/**
 * A comma list with a default: items trimmed (and normalised), empties dropped; at least one,
 * each passing `valid`, else `describe` words the problem (given the first bad item, if any).
 */
const commaList = (
  defaultValue: string,
  valid: (item: string) => boolean,
  describe: (bad: string | undefined, s: string) => string,
  normalize: (item: string) => string = (item) => item,
) =>
  parsedText(defaultValue, (s) => {
    const items = splitRedisUrls(s).map(normalize).filter(Boolean);
    const bad = items.find((item) => !valid(item));
    return items.length === 0 || bad !== undefined
      ? { ok: false, problem: describe(bad, s) }
      : { ok: true, value: items };
  });

const prodIds = commaList(
  "11000000300006,11010000138001,11000000300005,11030000180001",
  (id) => /^\d{1,20}$/.test(id),
  (_bad, s) => `must be a comma list of numeric ProdIds, got "${s}"`,
);

/**
 * REDIS_URL: one `redis://` URL, or a comma list of them naming the seed nodes of a Redis
 * Cluster (any few masters; ioredis discovers the rest). Kept as the string it was given.
 */
const redisUrls = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default("redis://127.0.0.1:6379")
    .refine((s) => splitRedisUrls(s).every((u) => isUrlWith(u, ["redis:", "rediss:"])), {
      message:
        "must be a redis:// or rediss:// URL, or a comma list of them (the seed nodes of a Redis Cluster)",
    }),
);

/** The nodes of REDIS_URL (one for a single Redis, the seeds of a cluster). */
export function splitRedisUrls(s: string): string[] {
  return s
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

function isUrlWith(s: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

/**
 * Redis Cluster keeps a multi-key command (every BullMQ script, our limiter) in one slot only
 * when its keys share a hash tag: the text between the first `{` and the next `}`, non-empty.
 */
export function hasHashTag(prefix: string): boolean {
  return /^[^{]*\{[^}]+\}/.test(prefix);
}

/** Which calls reconcile queries (VMS_RECONCILE_POLICY); see src/reconcile/selection.ts. */
export type ReconcilePolicy =
  | { kind: "all" }
  /** Only calls without a VoiceReport or whose VoiceReport status is not a success. */
  | { kind: "incomplete" }
  /** A share `rate` (0 < rate ≤ 1) of calls, chosen by a hash of call_id. */
  | { kind: "sample"; rate: number };

const reconcilePolicy = z.preprocess(
  (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : v),
  z
    .string()
    .default("all")
    .transform((s, ctx): ReconcilePolicy => {
      if (s === "all" || s === "incomplete") {
        return { kind: s };
      }
      const m = /^(?:sample:)?(\d*\.?\d+)$/.exec(s);
      const rate = m ? Number(m[1]) : NaN;
      if (!(rate > 0 && rate <= 1)) {
        ctx.addIssue({
          code: "custom",
          message: `must be all, incomplete, or a sample rate above 0 and at most 1 such as sample:0.1 (VMS_RECONCILE=off queries nothing), got "${s}"`,
        });
        return z.NEVER;
      }
      return rate === 1 ? { kind: "all" } : { kind: "sample", rate };
    }),
);

/** Where recordings are kept (VMS_RECORDINGS_STORE); see src/recordings/stores.ts. */
export type RecordingStoreConfig =
  | { kind: "off" }
  /** `dir` is absolute (resolved against the working directory at start). */
  | { kind: "file"; dir: string }
  | { kind: "s3"; bucket: string; prefix: string };

const recordingStore = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default("file://./recordings")
    .transform((s, ctx): RecordingStoreConfig => {
      const t = s.trim();
      if (t.toLowerCase() === "off") {
        return { kind: "off" };
      }
      // file://./dir and file://dir are relative (a URL parser would take "." as a host).
      const file = /^file:\/\/(.+)$/.exec(t);
      if (file) {
        return { kind: "file", dir: resolvePath(decodeURIComponent(file[1] as string)) };
      }
      const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(t);
      if (s3) {
        const prefix = (s3[2] ?? "").replace(/^\/+|\/+$/g, "");
        return { kind: "s3", bucket: s3[1] as string, prefix: prefix === "" ? "" : `${prefix}/` };
      }
      ctx.addIssue({
        code: "custom",
        message: `must be file://<dir>, s3://<bucket>/<prefix> or off, got "${t}"`,
      });
      return z.NEVER;
    }),
);

/** VMS_RECORDINGS_HOSTS: host names, a leading `*.` matching sub-domains; OSS by default. */
const recordingHosts = commaList(
  "aliyuncs.com,*.aliyuncs.com",
  (h) => /^(\*\.)?[a-z0-9]([a-z0-9.:[\]-]*[a-z0-9\]])?$/.test(h),
  (bad, s) =>
    `must be a comma list of host names (a leading *. matches sub-domains), got "${bad ?? s}"`,
  (h) => h.toLowerCase(),
);

const envSchema = z.object({
  DATABASE_URL: url("postgres://postgres@127.0.0.1:5432/postgres", ["postgres:", "postgresql:"]),
  REDIS_URL: redisUrls,
  REDIS_CLUSTER: onOff,
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalString,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalString,
  VMS_MNS_QUEUES: mnsQueues,
  VMS_MNS_ENDPOINT: endpoint("https://1943695596114318.mns.cn-hangzhou.aliyuncs.com"),
  VMS_MNS_WAIT_SECONDS: intInRange(1, 30, 30),
  VMS_MNS_CONCURRENCY: intInRange(1, 64, 2),
  VMS_TOKEN_ENDPOINT: endpoint("https://dybaseapi.aliyuncs.com"),
  VMS_API_ENDPOINT: endpoint("https://dyvmsapi.aliyuncs.com"),
  VMS_PUSH_HOST: z.preprocess(emptyAsUndefined, z.string().default("0.0.0.0")),
  VMS_PUSH_PORT: intInRange(0, 65535, 8080),
  VMS_METRICS_PORT: intInRange(0, 65535, undefined),
  VMS_PUSH_TOKEN: optionalString,
  VMS_ADMIN_TOKEN: optionalString,
  VMS_PUSH_BODY_LIMIT_BYTES: intInRange(1024, 100 * 1024 * 1024, 5 * 1024 * 1024),
  VMS_PUSH_MAX_BYTES_IN_FLIGHT: intInRange(1024, 1024 * 1024 * 1024, 4 * 1024 * 1024),
  VMS_QUEUE_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default("{vr}")
      .refine((s) => !s.includes(":") && s.length <= 64, {
        message: "must be at most 64 characters without ':'",
      }),
  ),
  VMS_RECONCILE: onOff,
  VMS_RECONCILE_DELAY_SECONDS: intInRange(0, 24 * 3600, 180),
  VMS_RECONCILE_QPS: intInRange(1, 100, 50),
  VMS_RECONCILE_PROD_IDS: prodIds,
  VMS_RECONCILE_GIVE_UP_HOURS: intInRange(1, 24 * 30, 24),
  VMS_RECONCILE_POLICY: reconcilePolicy,
  VMS_SMART_CALL_FORWARD_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .optional()
      .refine((s) => s === undefined || /^https?:\/\/\S+$/.test(s), {
        message: "must be an http:// or https:// URL",
      }),
  ),
  VMS_SMART_CALL_RULES: optionalString,
  VMS_SMART_CALL_DEFAULT_ACTION: z.preprocess(
    emptyAsUndefined,
    z
      .enum(SMART_CALL_ACTIONS, {
        message: `must be one of ${SMART_CALL_ACTIONS.join(", ")}`,
      })
      .default("continue"),
  ),
  /** Whole-answer budget of a smart-call callback (the webhook gets what is left of it). */
  VMS_SMART_CALL_DEADLINE_MS: intInRange(50, 10_000, 800),
  VMS_RECORDINGS_STORE: recordingStore,
  VMS_RECORDINGS_S3_ENDPOINT: z.preprocess(emptyAsUndefined, endpoint("").optional()),
  VMS_RECORDINGS_S3_REGION: z.preprocess(emptyAsUndefined, z.string().default("us-east-1")),
  VMS_RECORDINGS_S3_FORCE_PATH_STYLE: onOff,
  VMS_RECORDINGS_HOSTS: recordingHosts,
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  VMS_RECORDINGS_CONCURRENCY: intInRange(1, 64, 4),
  /** 0: no cap. Shared by every download of one process. */
  VMS_RECORDINGS_MAX_BYTES_PER_S: intInRange(0, 10 * 1024 * 1024 * 1024, 0),
  VMS_RECORDINGS_MAX_BYTES: intInRange(1024, 64 * 1024 * 1024 * 1024, 2 * 1024 * 1024 * 1024),
  VMS_WEBHOOK_URLS: optionalString,
  VMS_WEBHOOK_SECRET: optionalString,
  VMS_WEBHOOK_CONFIG: optionalString,
  VMS_WEBHOOK_TIMEOUT_MS: intInRange(100, 300_000, 15_000),
  VMS_WEBHOOK_RETRY_SCHEDULE: parsedText("0s,5s,5m,30m,2h,5h,10h,10h", parseRetrySchedule),
  VMS_WEBHOOK_PAUSE_AFTER: parsedText("5d", (s) => {
    const ms = parseDuration(s);
    return ms === undefined || ms < 1000
      ? { ok: false, problem: `must be a duration of at least 1s such as 12h or 5d, got "${s}"` }
      : { ok: true, value: ms };
  }),
  VMS_WEBHOOK_CONCURRENCY: intInRange(1, 256, 8),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : v),
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  ),
  LOG_REDACT_NUMBERS: onOff,
});

export interface Config {
  databaseUrl: string;
  /** REDIS_URL as given: one URL, or a comma list of cluster seed nodes. */
  redisUrl: string;
  /** Use ioredis Cluster: REDIS_URL names several nodes, or REDIS_CLUSTER=on. */
  redisCluster: boolean;
  /** BullMQ key prefix; hash-tagged by default so every key lands in one Redis Cluster slot. */
  queuePrefix: string;
  credentials: { accessKeyId: string; accessKeySecret: string } | undefined;
  mns: {
    queues: MnsQueueConfig[];
    endpoint: string;
    waitSeconds: number;
    /** Long-poll loops per queue. */
    concurrency: number;
    tokenEndpoint: string;
  };
  apiEndpoint: string;
  push: {
    host: string;
    port: number;
    token: string | undefined;
    bodyLimitBytes: number;
    /** Push body bytes held at once; more wait unread (src/sources/http/bytesInFlight.ts). */
    maxBytesInFlight: number;
  };
  /**
   * VMS_METRICS_PORT: where a `--role worker` process serves /healthz, /readyz and /metrics
   * (on VMS_PUSH_HOST). Unset: a worker-only process serves no HTTP. Roles with the push
   * server serve them there and ignore this.
   */
  metricsPort: number | undefined;
  /** VMS_ADMIN_TOKEN: opens the queue board at /admin/queues; the board is off when unset. */
  adminToken: string | undefined;
  reconcile: {
    enabled: boolean;
    delayMs: number;
    qps: number;
    prodIds: string[];
    giveUpMs: number;
    /** Which calls are queried; the others end `skipped` with reason `policy`. */
    policy: ReconcilePolicy;
  };
  smartCall: {
    forwardUrl: string | undefined;
    rulesPath: string | undefined;
    defaultAction: (typeof SMART_CALL_ACTIONS)[number];
    /** The callback is answered at most this long after it arrived, whatever the webhook does. */
    deadlineMs: number;
  };
  recordings: {
    store: RecordingStoreConfig;
    s3: {
      endpoint: string | undefined;
      region: string;
      forcePathStyle: boolean;
      /** AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when both are set; else the SDK's own chain. */
      credentials:
        { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
    };
    /** Hosts the fetcher may connect to; `*.example.com` matches sub-domains only. */
    hosts: string[];
    concurrency: number;
    /** Bytes per second across all downloads of the process; 0 = no cap. */
    maxBytesPerSecond: number;
    /** Largest recording accepted; a bigger one ends `failed` (too_large). */
    maxBytes: number;
  };
  /** Outcome delivery (src/delivery/); no endpoints: events are still written and NOTIFYed. */
  webhooks: {
    endpoints: WebhookEndpoint[];
    timeoutMs: number;
    /** Wait before each attempt (the first is usually 0); after the last failure: dead. */
    retryScheduleMs: number[];
    /** An endpoint that answered nothing but failures for this long is paused. */
    pauseAfterMs: number;
    /** Requests in flight per worker process. */
    concurrency: number;
  };
  log: { level: (typeof LOG_LEVELS)[number]; redactNumbers: boolean };
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

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      return `  ${name}: ${issue.message}`;
    });
    // The webhook endpoints are checked after the schema; report theirs now too, so that every
    // bad variable is named at once.
    const blank = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
    const hooks = loadEndpoints({
      urls: blank(env.VMS_WEBHOOK_URLS),
      secret: blank(env.VMS_WEBHOOK_SECRET),
      configPath: blank(env.VMS_WEBHOOK_CONFIG),
    });
    lines.push(...hooks.problems.map(([name, message]) => `  ${name}: ${message}`));
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const hasId = e.ALIBABA_CLOUD_ACCESS_KEY_ID !== undefined;
  const hasSecret = e.ALIBABA_CLOUD_ACCESS_KEY_SECRET !== undefined;
  if (hasId !== hasSecret) {
    problems.push(
      "  ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET: set both or neither",
    );
  }
  const credentials =
    hasId && hasSecret
      ? {
          accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID as string,
          accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET as string,
        }
      : undefined;
  if (e.VMS_MNS_QUEUES.length > 0 && credentials === undefined) {
    problems.push(
      "  VMS_MNS_QUEUES: MNS consumption needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    );
  }
  if (e.VMS_RECONCILE === true && credentials === undefined) {
    problems.push(
      "  VMS_RECONCILE: on needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    );
  }
  const redisCluster = e.REDIS_CLUSTER ?? splitRedisUrls(e.REDIS_URL).length > 1;
  if (!redisCluster && splitRedisUrls(e.REDIS_URL).length > 1) {
    problems.push(
      "  REDIS_URL: several nodes are a Redis Cluster; REDIS_CLUSTER=off needs exactly one URL",
    );
  }
  if (redisCluster && !hasHashTag(e.VMS_QUEUE_PREFIX)) {
    problems.push(
      `  VMS_QUEUE_PREFIX: on a Redis Cluster the prefix needs a {hash tag} so that every key of a queue shares one slot, e.g. {vr}; got "${e.VMS_QUEUE_PREFIX}"`,
    );
  }
  if (e.VMS_ADMIN_TOKEN !== undefined && e.VMS_ADMIN_TOKEN === e.VMS_PUSH_TOKEN) {
    // The push token is written into Alibaba's console and URLs; it must never open the board.
    problems.push("  VMS_ADMIN_TOKEN: must differ from VMS_PUSH_TOKEN");
  }
  const webhooks = loadEndpoints({
    urls: e.VMS_WEBHOOK_URLS,
    secret: e.VMS_WEBHOOK_SECRET,
    configPath: e.VMS_WEBHOOK_CONFIG,
  });
  problems.push(...webhooks.problems.map(([name, message]) => `  ${name}: ${message}`));
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
  }
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisCluster,
    queuePrefix: e.VMS_QUEUE_PREFIX,
    credentials,
    mns: {
      queues: e.VMS_MNS_QUEUES,
      endpoint: e.VMS_MNS_ENDPOINT,
      waitSeconds: e.VMS_MNS_WAIT_SECONDS,
      concurrency: e.VMS_MNS_CONCURRENCY,
      tokenEndpoint: e.VMS_TOKEN_ENDPOINT,
    },
    apiEndpoint: e.VMS_API_ENDPOINT,
    push: {
      host: e.VMS_PUSH_HOST,
      port: e.VMS_PUSH_PORT,
      token: e.VMS_PUSH_TOKEN,
      bodyLimitBytes: e.VMS_PUSH_BODY_LIMIT_BYTES,
      maxBytesInFlight: e.VMS_PUSH_MAX_BYTES_IN_FLIGHT,
    },
    metricsPort: e.VMS_METRICS_PORT,
    adminToken: e.VMS_ADMIN_TOKEN,
    reconcile: {
      enabled: e.VMS_RECONCILE ?? credentials !== undefined,
      delayMs: e.VMS_RECONCILE_DELAY_SECONDS * SECOND,
      qps: e.VMS_RECONCILE_QPS,
      prodIds: e.VMS_RECONCILE_PROD_IDS,
      giveUpMs: e.VMS_RECONCILE_GIVE_UP_HOURS * HOUR,
      policy: e.VMS_RECONCILE_POLICY,
    },
    smartCall: {
      forwardUrl: e.VMS_SMART_CALL_FORWARD_URL,
      rulesPath: e.VMS_SMART_CALL_RULES,
      defaultAction: e.VMS_SMART_CALL_DEFAULT_ACTION,
      deadlineMs: e.VMS_SMART_CALL_DEADLINE_MS,
    },
    recordings: {
      store: e.VMS_RECORDINGS_STORE,
      s3: {
        endpoint: e.VMS_RECORDINGS_S3_ENDPOINT,
        region: e.VMS_RECORDINGS_S3_REGION,
        forcePathStyle: e.VMS_RECORDINGS_S3_FORCE_PATH_STYLE ?? false,
        credentials:
          e.AWS_ACCESS_KEY_ID !== undefined && e.AWS_SECRET_ACCESS_KEY !== undefined
            ? {
                accessKeyId: e.AWS_ACCESS_KEY_ID,
                secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
                ...(e.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: e.AWS_SESSION_TOKEN }),
              }
            : undefined,
      },
      hosts: e.VMS_RECORDINGS_HOSTS,
      concurrency: e.VMS_RECORDINGS_CONCURRENCY,
      maxBytesPerSecond: e.VMS_RECORDINGS_MAX_BYTES_PER_S,
      maxBytes: e.VMS_RECORDINGS_MAX_BYTES,
    },
    webhooks: {
      endpoints: webhooks.endpoints,
      timeoutMs: e.VMS_WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: e.VMS_WEBHOOK_RETRY_SCHEDULE,
      pauseAfterMs: e.VMS_WEBHOOK_PAUSE_AFTER,
      concurrency: e.VMS_WEBHOOK_CONCURRENCY,
    },
    log: { level: e.LOG_LEVEL, redactNumbers: e.LOG_REDACT_NUMBERS ?? false },
  };
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
