/**
 * `voice-receipts replay <file|dir>... [--type T] [--no-reconcile] [--apply|--no-apply|--wait]`
 * (README "Replaying archives"). Builds what it needs itself (configuration, PostgreSQL pool, the
 * intake, and for --no-apply/--wait a Redis producer connection and the BullMQ queue), applies
 * pending migrations like `run` does, replays, prints one summary line on stdout, and closes
 * everything.
 */
import { configSecrets, loadConfig } from "../config/index.js";
import { AppError, ConfigError, StorageUnavailableError } from "../errors.js";
import { createRedis, type RedisConnection, type RedisTarget } from "../infra/redis.js";
import { createLogger } from "../logger.js";
import { createMetrics } from "../ops/metrics.js";
import { createIntake } from "../pipeline/intake.js";
import { openBoundQueues, type PipelineQueues } from "../pipeline/queues.js";
import { collectFiles } from "../replay/files.js";
import { isValidTypeName } from "../replay/formats.js";
import { createProgress, notesOnlyProgress } from "../replay/progress.js";
import { KNOWN_MESSAGE_TYPES } from "../domain/schemas.js";
import {
  ReplayFailedError,
  runReplay,
  type ApplyMode,
  type ReplaySummary,
} from "../replay/replay.js";
import { summaryLine } from "../replay/summary.js";
import { createPool } from "../store/db.js";
import { runMigrations } from "../store/migrate.js";

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_CONCURRENCY = 4;

export interface ReplayCommandOptions {
  type?: string;
  /** false with --no-reconcile */
  reconcile: boolean;
  /** --apply (true), --no-apply (false), neither (undefined: apply) */
  apply?: boolean;
  wait?: boolean;
  batchSize?: number;
  concurrency?: number;
  /** Progress output: default on (bar on a terminal, plain lines otherwise). */
  progress?: boolean;
}

export interface ReplayIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  /** Stop reading on SIGINT/SIGTERM and still print the summary (the CLI; not tests). */
  handleSignals: boolean;
}

const processIo = (): ReplayIo => ({
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  handleSignals: true,
});

export function resolveMode(opts: Pick<ReplayCommandOptions, "apply" | "wait">): ApplyMode {
  if (opts.wait === true) {
    if (opts.apply === true) {
      throw new ConfigError("replay: --apply and --wait exclude each other");
    }
    return "wait";
  }
  return opts.apply === false ? "queue" : "apply";
}

/** Producer connection (fail-fast commands), once it is ready. */
async function readyRedis(target: RedisTarget): Promise<RedisConnection> {
  const redis = createRedis(target, "producer", "voice-receipts-replay");
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StorageUnavailableError("redis")), 5000);
      redis.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  return redis;
}

/**
 * `--apply` needs no queue: each batch is applied right after intake made it durable, so no
 * persist job is queued (a crash in between leaves the receipts unprocessed; the next replay
 * applies them, as does the sweeper of any running daemon).
 */
function noQueues(): PipelineQueues {
  return {
    get receipts(): never {
      throw new Error("replay --apply uses no BullMQ queue");
    },
    async enqueuePersist() {},
    async close() {},
  };
}

export async function replayCommand(
  paths: readonly string[],
  opts: ReplayCommandOptions,
  io: ReplayIo = processIo(),
): Promise<ReplaySummary> {
  // A type named on the command line is the operator's claim about every receipt: an unknown
  // one is a typo (VoiceReprot), not a new type to keep as is.
  if (
    opts.type !== undefined &&
    (!isValidTypeName(opts.type) || !(KNOWN_MESSAGE_TYPES as readonly string[]).includes(opts.type))
  ) {
    throw new ConfigError(
      `replay: --type must be one of ${KNOWN_MESSAGE_TYPES.join(", ")}, got "${opts.type}"`,
    );
  }
  const mode = resolveMode(opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const config = loadConfig(io.env);
  const { files, ignored } = await collectFiles(paths);
  if (ignored.length > 0) {
    io.stderr.write(
      `replay: ignoring ${ignored.length} file(s) that are not archives (.json, .ndjson, .jsonl, .xml, optionally .gz), e.g. ${ignored[0]}\n`,
    );
  }

  const logger = createLogger({
    level: config.log.level,
    destination: io.stderr,
    secrets: configSecrets(config),
  }).child({
    component: "replay",
  });
  const pool = createPool(config.databaseUrl, {
    max: concurrency + 2,
    connectionTimeoutMillis: 5000,
    applicationName: "voice-receipts replay",
  });
  let redis: RedisConnection | undefined;
  let queues: PipelineQueues | undefined;
  const abort = new AbortController();
  const progress =
    opts.progress === false ? notesOnlyProgress(io.stderr) : createProgress(io.stderr);
  const onSignal = () => {
    if (!abort.signal.aborted) {
      // Through the progress output, which clears the bar's line first.
      progress.stopping("replay: stopping after the batches in flight (again to force)");
      abort.abort();
    } else {
      process.exit(130);
    }
  };
  if (io.handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  try {
    await runMigrations(pool);
    if (mode === "apply") {
      queues = noQueues();
    } else {
      redis = await readyRedis(config);
      queues = await openBoundQueues(config, redis, pool);
    }
    const intake = createIntake({ pool, queues, metrics: createMetrics(), logger });
    const bullQueue = mode === "apply" ? undefined : queues.receipts;
    const summary = await runReplay(
      files,
      {
        type: opts.type,
        reconcile: opts.reconcile,
        mode,
        batchSize,
        concurrency,
        signal: abort.signal,
      },
      {
        pool,
        intake,
        progress,
        ...(bullQueue ? { workerCount: () => bullQueue.getWorkersCount() } : {}),
      },
    );
    io.stdout.write(`${summaryLine(summary, { reconcile: opts.reconcile })}\n`);
    if (summary.interrupted) {
      throw new AppError(
        "INTERRUPTED",
        "replay interrupted; what was read is stored, run it again to finish (replay is idempotent)",
      );
    }
    return summary;
  } catch (err) {
    if (err instanceof ReplayFailedError) {
      io.stderr.write(
        `${summaryLine(err.summary, { reconcile: opts.reconcile }).replace(/^replay/, "replay stopped by an error")}\n`,
      );
    }
    throw err;
  } finally {
    if (io.handleSignals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    await queues?.close().catch(() => {});
    await redis?.quit().catch(() => redis?.disconnect());
    await pool.end().catch(() => {});
  }
}
