/**
 * bench/persist.ts — receipts/s from the queue to rows: N mixed receipts (per call one
 * VoiceReport, three VoiceCallReport events, one VoiceRecordReport) are made durable through the
 * real intake (PostgreSQL `receipts` + BullMQ jobs, chunks of 100) with no worker running; then
 * the real daemon is started with `--role worker` and timed until every receipt has
 * processed_at set. Anchor, in the same run and database: a raw UNNEST upsert (prepared
 * statements, batches of 1000) of the same rows into scratch copies of calls, call_events and
 * recordings, with no queue, no receipts and no normalisation.
 *
 *   npx tsx bench/persist.ts [--calls 10000] [--workers 1] [--rounds 2]
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/persist.ts     # CPU profile of the worker process
 *   (`run(options)` does the same and returns the figures: bench/all.ts)
 *
 * Each round has its own receipts and its own anchor passes; figures are the best round (on a
 * shared machine interference only ever slows a round down). CPU per receipt (worker,
 * PostgreSQL, Redis) is read from /proc over the drains. Everything is dropped at the end.
 *
 * Target (2 cores, docs/benchmarks.md, T4 raised by issue #23): ratio ≥ 0.35×.
 */
import { randomInt } from "node:crypto";
import os from "node:os";

import type pg from "pg";

import { loadConfig } from "../src/config/index.js";
import { normalizeReceipt, type NormalizedReceipt } from "../src/domain/receipt.js";
import { createRedis } from "../src/infra/redis.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/ops/metrics.js";
import { createIntake, type IntakeBatch } from "../src/pipeline/intake.js";
import { openBoundQueues } from "../src/pipeline/queues.js";
import { createPool } from "../src/store/db.js";
import {
  backendsOf,
  type BenchDb,
  benchPrefix,
  cleanUp,
  count,
  cpuBetween,
  cpuSnapshot,
  createBenchDb,
  dropPrefix,
  isMain,
  numberArg,
  peakRssMb,
  printFigures,
  REDIS_URL,
  redisUsedMemory,
  saveResults,
  voiceCallReports,
  voiceRecordReport,
  voiceReport,
} from "./lib.js";
import { profileArgs, startChild } from "./load.js";

export interface PersistBenchOptions {
  /** Calls per round (5 receipts each); default 10,000. */
  calls?: number;
  /** Worker processes; default 1. */
  workers?: number;
  /** Default 2. */
  rounds?: number;
}

// Set by run(); module-level so the helpers below read them as before.
let CALLS = 10_000;
let WORKERS = 1;
let ROUNDS = 2;
const CHUNK = 100;
const INTAKE_IN_FLIGHT = 8;
const ANCHOR_BATCH = 1000;
const DRAIN_TIMEOUT_MS = 25_000;

type Receipt = Record<string, string>;

/** Deterministic shuffle (the order chunks reach the queue: types interleaved, events first). */
function shuffle<T>(items: T[], seed = 7): T[] {
  let s = seed;
  for (let i = items.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) & 0x7fffffff;
    const j = s % (i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function corpus(): { batches: IntakeBatch[]; byType: Map<string, Receipt[]> } {
  const run = String(randomInt(1e11, 1e12 - 1));
  const byType = new Map<string, Receipt[]>([
    ["VoiceReport", []],
    ["VoiceCallReport", []],
    ["VoiceRecordReport", []],
  ]);
  for (let n = 0; n < CALLS; n++) {
    byType.get("VoiceReport")?.push(voiceReport(n, run));
    byType.get("VoiceCallReport")?.push(...voiceCallReports(n, run));
    byType.get("VoiceRecordReport")?.push(voiceRecordReport(n, run));
  }
  const batches: IntakeBatch[] = [];
  for (const [messageType, list] of byType) {
    for (let i = 0; i < list.length; i += CHUNK) {
      batches.push({
        source: "http",
        messageType,
        items: list.slice(i, i + CHUNK).map((raw, k) => ({ raw, location: `push#${k}` })),
      });
    }
  }
  return { batches: shuffle(batches), byType };
}

/** Make every receipt durable and queued through the real intake; returns seconds taken. */
async function fill(dbUrl: string, prefix: string, batches: IntakeBatch[]): Promise<number> {
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    REDIS_URL,
    VMS_QUEUE_PREFIX: prefix,
    LOG_LEVEL: "silent",
  });
  const pool = createPool(dbUrl, { max: 10 });
  const redis = createRedis(REDIS_URL, "producer");
  const queues = await openBoundQueues(config, redis, pool);
  const intake = createIntake({
    pool,
    queues,
    metrics: createMetrics(),
    logger: createLogger({ level: "silent" }),
  });
  try {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: INTAKE_IN_FLIGHT }, async () => {
        while (next < batches.length) {
          const batch = batches[next++] as IntakeBatch;
          const r = await intake.accept(batch);
          if (r.accepted !== batch.items.length) {
            throw new Error(`intake accepted ${r.accepted} of ${batch.items.length}`);
          }
        }
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Anchor: the same rows, raw UNNEST upserts, no queue and no receipts table.

const CALL_TEXT = [
  "out_id",
  "caller",
  "callee",
  "status_code",
  "status_msg",
  "smart_status_code",
  "early_media_code",
  "voice_type",
  "hangup_direction",
  "dtmf",
] as const;
const CALL_TIME = ["originate_time", "ring_time", "start_time", "end_time"] as const;
const CALL_COLS = ["call_id", "direction", ...CALL_TEXT, ...CALL_TIME, "duration_seconds"];

const ANCHOR_SQL = {
  calls: `insert into bench_calls (${CALL_COLS.join(", ")})
          select * from unnest($1::text[], $2::text[], ${CALL_TEXT.map((_, i) => `$${i + 3}::text[]`).join(", ")},
                               ${CALL_TIME.map((_, i) => `$${i + 3 + CALL_TEXT.length}::timestamptz[]`).join(", ")},
                               $${3 + CALL_TEXT.length + CALL_TIME.length}::int[])
          on conflict (call_id) do update set
          ${CALL_COLS.slice(1)
            .map((c) => `${c} = excluded.${c}`)
            .join(", ")}, updated_at = now()`,
  events: `insert into bench_call_events (call_id, status_code, status_time, dtmf, out_id, smart_status_code, body)
           select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
           on conflict do nothing`,
  recordings: `insert into bench_recordings (call_id, record_file, out_id, start_time, end_time, duration_seconds,
                                             record_begin_time, status_code, smart_status_code, body)
               select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
                                    $6::int[], $7::timestamptz[], $8::text[], $9::text[], $10::jsonb[])
               on conflict do nothing`,
};

type AnchorBatch = { table: keyof typeof ANCHOR_SQL; values: unknown[][]; rows: number };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The anchor's input, prepared before timing: per table, batches of column arrays. */
function anchorBatches(byType: Map<string, Receipt[]>): AnchorBatch[] {
  const norm = (type: string) =>
    (byType.get(type) ?? []).map((raw) => {
      const r = normalizeReceipt(type, raw);
      if (!r.ok) {
        throw new Error(r.reason);
      }
      return { n: r.receipt, body: JSON.stringify(raw) };
    });
  const out: AnchorBatch[] = [];
  const push = <T>(table: AnchorBatch["table"], rows: T[], cols: ((r: T) => unknown)[]) => {
    for (let i = 0; i < rows.length; i += ANCHOR_BATCH) {
      const chunk = rows.slice(i, i + ANCHOR_BATCH);
      out.push({ table, rows: chunk.length, values: cols.map((f) => chunk.map(f)) });
    }
  };
  type Row = { n: NormalizedReceipt; body: string };
  const call = (r: Row) => r.n.call as NonNullable<NormalizedReceipt["call"]>;
  push<Row>("calls", norm("VoiceReport"), [
    (r) => call(r).callId,
    (r) => call(r).direction,
    (r) => call(r).outId,
    (r) => call(r).caller,
    (r) => call(r).callee,
    (r) => call(r).statusCode,
    (r) => call(r).statusMsg,
    (r) => call(r).smartStatusCode,
    (r) => call(r).earlyMediaCode,
    (r) => call(r).voiceType,
    (r) => call(r).hangupDirection,
    (r) => call(r).dtmf,
    (r) => iso(call(r).originateTime),
    (r) => iso(call(r).ringTime),
    (r) => iso(call(r).startTime),
    (r) => iso(call(r).endTime),
    (r) => call(r).durationSeconds,
  ]);
  const ev = (r: Row) => r.n.event as NonNullable<NormalizedReceipt["event"]>;
  push<Row>("events", norm("VoiceCallReport"), [
    (r) => ev(r).callId,
    (r) => ev(r).statusCode,
    (r) => iso(ev(r).statusTime),
    (r) => ev(r).dtmf,
    (r) => ev(r).outId,
    (r) => ev(r).smartStatusCode,
    (r) => r.body,
  ]);
  const rec = (r: Row) => r.n.recording as NonNullable<NormalizedReceipt["recording"]>;
  push<Row>("recordings", norm("VoiceRecordReport"), [
    (r) => rec(r).callId,
    (r) => rec(r).recordFile,
    (r) => rec(r).outId,
    (r) => iso(rec(r).startTime),
    (r) => iso(rec(r).endTime),
    (r) => rec(r).durationSeconds,
    (r) => iso(rec(r).recordBeginTime),
    (r) => rec(r).statusCode,
    (r) => rec(r).smartStatusCode,
    (r) => r.body,
  ]);
  return out;
}

/** One timed pass over fresh scratch tables with `connections` parallel connections. */
async function anchorPass(
  pool: pg.Pool,
  batches: AnchorBatch[],
  connections: number,
): Promise<number> {
  await pool.query("truncate bench_calls, bench_call_events, bench_recordings");
  const rows = batches.reduce((s, b) => s + b.rows, 0);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        while (next < batches.length) {
          const b = batches[next++] as AnchorBatch;
          await client.query({
            name: `anchor-${b.table}`,
            text: ANCHOR_SQL[b.table],
            values: b.values,
          });
        }
      } finally {
        client.release();
      }
    }),
  );
  return rows / ((performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------------

interface Round {
  rate: number;
  steady: number;
  seconds: number;
  intakeRate: number;
  anchor1: number;
  anchor4: number;
  cpu: Record<string, number>;
  /** Redis used_memory growth while the round's receipts sat queued, per receipt. */
  redisBytesPerQueuedReceipt: number;
  workerPeakRssMb: (number | undefined)[];
}

/** One round: fill through the intake, anchor passes, then a timed drain by fresh workers. */
async function runRound(db: BenchDb, prefix: string): Promise<Round> {
  const { batches, byType } = corpus();
  const total = batches.reduce((s, b) => s + b.items.length, 0);
  const anchorInput = anchorBatches(byType);
  const before = await count(db.pool, "select count(*)::int as n from receipts");
  const memoryBefore = await redisUsedMemory();
  const intakeSeconds = await fill(db.url, prefix, batches);
  const redisBytesPerQueuedReceipt = ((await redisUsedMemory()) - memoryBefore) / total;
  const queued = await count(db.pool, "select count(*)::int as n from receipts");
  if (queued - before !== total) {
    throw new Error(`expected ${total} new durable receipts, found ${queued - before}`);
  }

  // The best of two passes each: interference on a shared machine only ever slows a pass
  // down, so the maximum is the steadiest estimate (and the stricter anchor).
  const anchor1 = Math.max(
    await anchorPass(db.pool, anchorInput, 1),
    await anchorPass(db.pool, anchorInput, 1),
  );
  const anchor4 = Math.max(
    await anchorPass(db.pool, anchorInput, 4),
    await anchorPass(db.pool, anchorInput, 4),
  );
  await db.pool.query("truncate bench_calls, bench_call_events, bench_recordings");
  // Settle what the fill and the anchor left (dead tuples, statistics) before timing.
  await db.pool.query("vacuum analyze");

  const workers: Awaited<ReturnType<typeof startChild>>[] = [];
  try {
    // Started together, so that none drains alone while another is still loading.
    const started = await Promise.allSettled(
      Array.from({ length: WORKERS }, () =>
        startChild(
          ["src/cli.ts", "run", "--role", "worker"],
          { DATABASE_URL: db.url, REDIS_URL, VMS_QUEUE_PREFIX: prefix, LOG_LEVEL: "info" },
          { ready: /"msg":"(?:schema up to date|migrations applied)"/, nodeArgs: profileArgs() },
        ),
      ),
    );
    for (const s of started) {
      if (s.status === "fulfilled") {
        workers.push(s.value);
      }
    }
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      throw failed.reason;
    }
    const cpuBefore = await cpuSnapshot();
    const t0 = Math.min(...workers.map((w) => w.readyAt));
    const samples: { t: number; done: number }[] = [];
    let left = total;
    while (left > 0) {
      if (performance.now() - t0 > DRAIN_TIMEOUT_MS) {
        throw new Error(`${left} of ${total} receipts unprocessed after ${DRAIN_TIMEOUT_MS} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
      left = await count(
        db.pool,
        "select count(*)::int as n from receipts where processed_at is null",
      );
      samples.push({ t: performance.now(), done: total - left });
    }
    const cpuAfter = await cpuSnapshot();
    // This database's backends (the workers' and the bench's) apart from the rest of
    // PostgreSQL (WAL writer, checkpointer, autovacuum, other databases on a shared server).
    const labels = await backendsOf(db.pool, "postgres (this db)");
    labels.set(process.pid, "bench");
    workers.forEach((w) => labels.set(w.child.pid ?? -1, "worker"));
    const seconds = ((samples.at(-1)?.t ?? t0) - t0) / 1000;
    // Steady state: from 10% to 90% processed (start-up and the tail left out).
    const at = (f: number) => samples.find((x) => x.done >= f * total) ?? { t: NaN, done: 0 };
    const [a, b] = [at(0.1), at(0.9)];
    return {
      rate: total / seconds,
      steady: (b.done - a.done) / ((b.t - a.t) / 1000),
      seconds,
      intakeRate: total / intakeSeconds,
      anchor1,
      anchor4,
      cpu: cpuBetween(cpuBefore, cpuAfter, labels),
      redisBytesPerQueuedReceipt,
      workerPeakRssMb: await Promise.all(workers.map((w) => peakRssMb(w.child.pid))),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

export async function run(o: PersistBenchOptions = {}) {
  CALLS = o.calls ?? 10_000;
  WORKERS = o.workers ?? 1;
  ROUNDS = o.rounds ?? 2;
  const db = await createBenchDb();
  const prefix = benchPrefix();
  try {
    await db.pool.query(`create table bench_calls (like calls including all);
                         create table bench_call_events (like call_events including all);
                         create table bench_recordings (like recordings including all)`);
    const results: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      results.push(await runRound(db, prefix));
    }
    await db.pool.query("drop table bench_calls, bench_call_events, bench_recordings");

    const rows = {
      calls: await count(db.pool, "select count(*)::int as n from calls"),
      callEvents: await count(db.pool, "select count(*)::int as n from call_events"),
      recordings: await count(db.pool, "select count(*)::int as n from recordings"),
      deadLettered: await count(
        db.pool,
        "select count(*)::int as n from receipts where error is not null",
      ),
      rejected: await count(db.pool, "select count(*)::int as n from rejected_receipts"),
    };
    const expected = {
      calls: ROUNDS * CALLS,
      callEvents: ROUNDS * 3 * CALLS,
      recordings: ROUNDS * CALLS,
      deadLettered: 0,
      rejected: 0,
    };
    for (const [k, v] of Object.entries(expected)) {
      if (rows[k as keyof typeof rows] !== v) {
        throw new Error(`rows: expected ${JSON.stringify(expected)}, got ${JSON.stringify(rows)}`);
      }
    }

    const total = 5 * CALLS;
    const best = (f: (r: Round) => number) => Math.max(...results.map(f));
    const rate = best((r) => r.rate);
    const anchor1 = best((r) => r.anchor1);
    const anchor4 = best((r) => r.anchor4);
    const anchor = Math.max(anchor1, anchor4);
    const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
    printFigures(
      `persist: queue → calls/call_events/recordings, ${total} receipts per round (${CALLS} calls × 5), ${WORKERS} worker process(es)`,
      [
        {
          name: "persisted",
          unit: "receipts/s",
          value: rate,
          anchorName: "raw UNNEST upsert b1000 of the same rows, 1 connection (reference T4)",
          anchor: anchor1,
          target: "≥ 0.35×",
        },
        {
          name: "persisted",
          unit: "receipts/s",
          value: rate,
          anchorName: "the same, 4 connections in parallel (stricter)",
          anchor: anchor4,
          target: "≥ 0.35×",
        },
      ],
    );
    console.log(
      `best of ${ROUNDS} rounds: drain ${results.map((r) => fmt(r.rate)).join(", ")} receipts/s (steady 10%→90%: ${results.map((r) => fmt(r.steady)).join(", ")}); intake fill (${INTAKE_IN_FLIGHT} × ${CHUNK}, no worker) ${results.map((r) => fmt(r.intakeRate)).join(", ")} receipts/s; rows ${JSON.stringify(rows)}`,
    );
    const cpu: Record<string, number> = {};
    let seconds = 0;
    for (const r of results) {
      seconds += r.seconds;
      for (const [k, v] of Object.entries(r.cpu)) {
        cpu[k] = (cpu[k] ?? 0) + v;
      }
    }
    const cores = os.cpus().length;
    const usPer = (k: string) => Math.round(((cpu[k] ?? 0) * 1e6) / (total * ROUNDS));
    const busy = Object.values(cpu).reduce((a, b) => a + b, 0) / (seconds * cores);
    console.log(
      `CPU during the drains, µs per receipt: worker ${usPer("worker")}, postgres backends of this db ${usPer("postgres (this db)")} (+ rest of postgres ${usPer("postgres")}), redis ${usPer("redis-server")}, bench (polling) ${usPer("bench")}; other processes ${usPer("other")} (machine busy ${Math.round(100 * busy)}% of ${cores} cores)`,
    );
    const summary = {
      receipts: total,
      rounds: ROUNDS,
      workers: WORKERS,
      rate,
      anchor,
      anchor1,
      anchor4,
      ratio: rate / anchor,
      ratio1: rate / anchor1,
      ratio4: rate / anchor4,
      perRound: results.map(({ cpu: _cpu, ...r }) => r),
      cpuUsPerReceipt: {
        worker: usPer("worker"),
        postgresThisDb: usPer("postgres (this db)"),
        postgresRest: usPer("postgres"),
        redis: usPer("redis-server"),
        other: usPer("other"),
      },
      rows,
      redisBytesPerQueuedReceipt: Math.min(...results.map((r) => r.redisBytesPerQueuedReceipt)),
      workerPeakRssMb: Math.max(...results.flatMap((r) => r.workerPeakRssMb.map((m) => m ?? 0))),
    };
    console.log(
      `Redis memory per queued receipt (used_memory growth over the queued backlog): ${Math.round(summary.redisBytesPerQueuedReceipt)} B; worker peak RSS ${Math.round(summary.workerPeakRssMb)} MB`,
    );
    await saveResults("persist", summary);
    return summary;
  } finally {
    await cleanUp(
      () => db.drop(),
      () => dropPrefix(prefix),
    );
  }
}

if (isMain(import.meta.url)) {
  await run({
    calls: numberArg("calls") ?? 10_000,
    workers: numberArg("workers") ?? 1,
    rounds: numberArg("rounds") ?? 2,
  });
}
