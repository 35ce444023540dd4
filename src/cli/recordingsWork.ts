/**
 * The work of `recordings fetch` and `recordings get` (src/cli/recordings.ts parses them).
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

import cliProgress from "cli-progress";
import { Registry } from "prom-client";

import { loadConfig } from "../config/index.js";
import { AppError, ConfigError } from "../errors.js";
import { createLogger } from "../logger.js";
import { createPool } from "../store/db.js";
import { requeue } from "../store/recordings/fetchQueue.js";
import { createRecordingFetcher, type Outcome } from "../recordings/fetcher.js";
import { createRecordingMetrics } from "../recordings/metrics.js";
import { openObjectStore } from "../recordings/objectStore.js";

export interface RecordingsIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const processIo = (): RecordingsIo => ({
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});

export async function fetchCommand(
  opts: { since?: Date; call?: string },
  io: RecordingsIo = processIo(),
): Promise<Record<Outcome, number>> {
  const config = loadConfig(io.env);
  const store = await openObjectStore(config);
  if (!store) {
    throw new ConfigError(
      "recordings fetch: VMS_RECORDINGS_STORE is off; set it to file://<dir> or s3://<bucket>/<prefix>",
    );
  }
  const pool = createPool(config.databaseUrl, {
    max: config.recordings.concurrency + 2,
    connectionTimeoutMillis: 5000,
    applicationName: "voice-receipts recordings fetch",
  });
  const filter = {
    ...(opts.call === undefined ? {} : { callId: opts.call }),
    ...(opts.since === undefined ? {} : { since: opts.since }),
  };
  const counts: Record<Outcome, number> = {
    stored: 0,
    retry: 0,
    expired: 0,
    failed: 0,
    released: 0,
  };
  // Warnings (failed downloads) go to stderr as JSON lines, under the bar.
  const logger = createLogger({ level: "warn", destination: io.stderr });
  const fetcher = createRecordingFetcher({
    config,
    pool,
    store,
    metrics: createRecordingMetrics(new Registry()),
    logger,
    // A backfill finishes: what fails now is left, due later, to the daemon's retries.
    tuning: { pollMs: 200 },
  });
  try {
    const revived = await requeue(pool, filter);
    const { rows } = await pool.query<{ n: number }>(
      `select count(distinct (call_id, split_part(record_file, '?', 1)))::int as n
         from recordings where fetch_status = 'pending' and fetch_next_at <= now()
          and ($1::text is null or call_id = $1) and ($2::timestamptz is null or received_at >= $2)`,
      [filter.callId ?? null, filter.since ?? null],
    );
    const total = rows[0]?.n ?? 0;
    io.stderr.write(`${total} recording(s) to fetch into ${store.location} (${revived} revived)\n`);
    const bar = io.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: "{bar} {value}/{total} stored {stored} failed {failed} | {eta_formatted}",
            stream: io.stderr as never,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(total, 0, { stored: 0, failed: 0 });
    await fetcher.drain(filter, (o) => {
      counts[o]++;
      bar?.increment(1, { stored: counts.stored, failed: counts.failed + counts.expired });
      if (!bar) {
        io.stderr.write(`${o}\n`);
      }
    });
    bar?.stop();
    io.stdout.write(
      `stored ${counts.stored}, expired ${counts.expired}, failed ${counts.failed}, ` +
        `to retry later ${counts.retry} (store ${store.location})\n`,
    );
    return counts;
  } finally {
    await fetcher.stop();
    await pool.end().catch(() => {});
  }
}

export async function getCommand(
  callId: string,
  opts: { output?: string },
  io: RecordingsIo = processIo(),
): Promise<void> {
  if (opts.output === undefined && io.stdout.isTTY) {
    throw new ConfigError("recordings get: stdout is a terminal; write to a file with -o FILE");
  }
  const config = loadConfig(io.env);
  const store = await openObjectStore(config);
  if (!store) {
    throw new ConfigError("recordings get: VMS_RECORDINGS_STORE is off");
  }
  const pool = createPool(config.databaseUrl, { max: 1, connectionTimeoutMillis: 5000 });
  try {
    const { rows } = await pool.query<{ storage_key: string; sha256: string; bytes: string }>(
      `select storage_key, sha256, bytes from recordings
        where call_id = $1 and fetch_status = 'stored' order by stored_at, id limit 1`,
      [callId],
    );
    const row = rows[0];
    if (!row) {
      const { rows: any } = await pool.query<{ fetch_status: string; fetch_error: string | null }>(
        "select fetch_status, fetch_error from recordings where call_id = $1 order by id",
        [callId],
      );
      throw new AppError(
        "RECORDING_NOT_STORED",
        any.length === 0
          ? `no recording for call ${callId}`
          : `the recording of call ${callId} is not stored: ${any.map((r) => `${r.fetch_status}${r.fetch_error ? ` (${r.fetch_error})` : ""}`).join(", ")}`,
      );
    }
    const hash = createHash("sha256");
    const tap = new Transform({
      transform(chunk: Buffer, _e, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // A file appears under its name only when its bytes match the stored sha256.
    const temp = opts.output
      ? join(dirname(opts.output), `.${randomBytes(6).toString("hex")}.part`)
      : undefined;
    const out: Writable = temp ? createWriteStream(temp, { flags: "wx" }) : (io.stdout as Writable);
    try {
      await pipeline(await store.get(row.storage_key), tap, out, { end: temp !== undefined });
      const sha = hash.digest("hex");
      if (sha !== row.sha256) {
        throw new AppError(
          "RECORDING_CORRUPT",
          `recording ${row.storage_key} does not match its sha256 (${sha} != ${row.sha256})`,
        );
      }
      if (temp && opts.output) {
        await rename(temp, opts.output);
        io.stderr.write(`${opts.output}: ${row.bytes} bytes, sha256 ${sha} (${row.storage_key})\n`);
      }
    } finally {
      if (temp) {
        await rm(temp, { force: true });
      }
    }
  } finally {
    store.close();
    await pool.end().catch(() => {});
  }
}
