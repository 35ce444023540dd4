/**
 * The set-up bench/reconcile.ts and bench/reconcileAdaptive.ts share: a simulator with 200 ms
 * API latency throttling at the real limit, a database holding `count` past calls of every
 * outbound product (as the persistence workers would have stored them), and worker processes
 * configured with VMS_RECONCILE_QPS = `qps`.
 */
import { createServer } from "node:net";
import os from "node:os";

import { Redis } from "ioredis";

import { createCallGenerator, startSimulator, type Simulator } from "../src/simulator/index.js";
import {
  benchPrefix,
  createBenchDb,
  dropPrefix,
  peakRssMb,
  REDIS_URL,
  type BenchDb,
} from "./lib.js";
import { startChild } from "./load.js";

export const LATENCY_MS = 200;

export interface RigOptions {
  /** VMS_RECONCILE_QPS of the workers. */
  qps: number;
  /** The simulator's throttling limit (the account's real quota); default `qps`. */
  realQps?: number;
  /** Calls to reconcile. */
  count: number;
  workers: number;
  /** CPU niceness of the workers (bench/reconcile.ts explains why); default 0. */
  nice?: number;
  /**
   * The realistic mix: robot calls never have a detail, this share of calls is unknown to the
   * simulator (never found), and VMS_RECONCILE_DELAY_SECONDS is the default 180 (the past calls
   * are due at once; retries of empty answers are spaced as in production). Default: off.
   */
  mix?: { neverFoundShare: number };
}

export interface Rig {
  sim: Simulator;
  db: BenchDb;
  total: number;
  /** Calls the simulator has a detail for (all but the mix's robot and never-found calls). */
  findable: number;
  reconciled(): Promise<number>;
  /** The workers' shared adaptive rate (calls per 1.03 s window) as stored in Redis. */
  sharedRate(): Promise<number>;
  /**
   * The workers' limiter counters summed (/metrics): slots given up because their timer fired
   * late, and slots whose window entry was moved to the real send time.
   */
  limiterCounters(): Promise<{ late: number; corrected: number }>;
  /** Stop the workers; returns their peak RSS. */
  stopWorkers(): Promise<(number | undefined)[]>;
  close(): Promise<void>;
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const sim = await startSimulator({ detailLagMs: 0, detailQps: o.realQps ?? o.qps });
  sim.control.setLatency("detail", LATENCY_MS);
  const db = await createBenchDb();
  const prefix = benchPrefix();
  const gen = createCallGenerator({
    seed: 3,
    startTime: Date.now() - 2 * 3600_000,
    meanGapMs: 200,
  });
  const calls = gen.generate(o.count, ["voice", "voice", "verification", "ivr", "robot"]);
  const unknown = new Set(
    o.mix ? calls.filter((_, i) => i % Math.round(1 / o.mix!.neverFoundShare) === 7) : [],
  );
  if (o.mix) {
    sim.control.setKindsWithoutDetail(["robot"]);
  }
  sim.control.loadCalls(calls.filter((c) => !unknown.has(c)));
  const findable = calls.filter((c) => !unknown.has(c) && !(o.mix && c.kind === "robot")).length;
  const t = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));
  await db.pool.query(
    `insert into calls (call_id, out_id, caller, callee, status_code, originate_time, start_time,
                        end_time, duration_seconds, dtmf, early_media_code)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                          $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::int[],
                          $10::text[], $11::text[])`,
    [
      calls.map((c) => c.callId),
      calls.map((c) => c.outId ?? null),
      calls.map((c) => c.caller),
      calls.map((c) => c.callee),
      calls.map((c) => c.statusCode),
      calls.map((c) => t(c.originateTime)),
      calls.map((c) => t(c.startTime)),
      calls.map((c) => t(c.endTime)),
      calls.map((c) => c.durationSeconds),
      // What the receipts would have left on the row (the ProdId learning key reads them).
      calls.map((c) => (c.dtmf.length > 0 ? c.dtmf.map((k) => k.digit).join("") : null)),
      calls.map((c) => (c.kind === "robot" && !c.answered ? (c.earlyMediaCode ?? null) : null)),
    ],
  );
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    VMS_QUEUE_PREFIX: prefix,
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_API_ENDPOINT: sim.url,
    VMS_RECONCILE: "on",
    VMS_RECONCILE_QPS: String(o.qps),
    VMS_RECONCILE_DELAY_SECONDS: o.mix ? "180" : "0",
    LOG_LEVEL: "info",
  };
  const workers: Awaited<ReturnType<typeof startChild>>[] = [];
  const metricsPorts: number[] = [];
  for (let i = 0; i < o.workers; i++) {
    metricsPorts.push(await freePort());
    workers.push(
      await startChild(
        ["src/cli.ts", "run", "--role", "worker"],
        { ...env, VMS_METRICS_PORT: String(metricsPorts.at(-1)) },
        { ready: /"reconciler started"/ },
      ),
    );
    if ((o.nice ?? 0) > 0) {
      os.setPriority(workers.at(-1)!.child.pid!, o.nice!);
    }
  }
  const redis = new Redis(REDIS_URL);
  let stopped: Promise<(number | undefined)[]> | undefined;
  const stopWorkers = () =>
    (stopped ??= (async () => {
      const rss = await Promise.all(workers.map((w) => peakRssMb(w.child.pid)));
      await Promise.all(workers.map((w) => w.stop()));
      return rss;
    })());
  return {
    sim,
    db,
    total: calls.length,
    findable,
    async reconciled() {
      const { rows } = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from calls where reconcile_status = 'reconciled'",
      );
      return rows[0]?.n ?? 0;
    },
    async sharedRate() {
      const v = await redis.hget(`${prefix}:reconcile-limiter:rate`, "rate");
      return v === null ? o.qps : Number(v);
    },
    async limiterCounters() {
      const sum = { late: 0, corrected: 0 };
      for (const port of metricsPorts) {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
        sum.late += counter(text, "voice_receipts_reconcile_limiter_late_total");
        sum.corrected += counter(text, "voice_receipts_reconcile_limiter_corrected_total");
      }
      return sum;
    },
    stopWorkers,
    async close() {
      await stopWorkers();
      redis.disconnect();
      await sim.close();
      await db.drop();
      await dropPrefix(prefix);
    },
  };
}

function counter(metrics: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(metrics);
  return m ? Number(m[1]) : 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
