/**
 * One fault run: a fresh database, BullMQ prefix and simulator; the daemon (in this process,
 * or as ingest + worker child processes); steady load through MNS and HTTP push while a
 * nemesis injects its fault; then wait until everything delivered has settled and run the
 * loss checker. The figures are printed, and kept under bench/results/ in the full form.
 */
import { mkdir, writeFile } from "node:fs/promises";

import { Queue } from "bullmq";
import { inject } from "vitest";

import { QUEUE_NAMES } from "../../src/pipeline/jobs.js";
import { createPushClient, type PushClient, type Simulator } from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { mnsEnv, queuesEmpty, startMnsSimulator } from "../helpers/mnsSetup.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { freePort } from "../helpers/servers.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcpProxy.js";
import {
  checkDelivery,
  emptySent,
  problems,
  snapshotDatabase,
  type CheckReport,
  type Sent,
} from "./checker.js";
import { killHard, spawnDaemon, type DaemonProcess, type Role } from "../helpers/daemons.js";
import { runLoad } from "./load.js";
import { pendingCalls, type PendingCalls } from "./pending.js";
import { FULL } from "./profile.js";
import { startRedisServer, type RedisServer } from "./redisServer.js";

export interface Cluster {
  sim: Simulator;
  db: TestDatabase;
  prefix: string;
  redisUrl: string;
  /** Where pushes go: the in-process daemon, or the ingester's fixed port. */
  url: string;
  /** Present when the run asked for its own redis-server. */
  redis: RedisServer | undefined;
  /** Present when the run asked for a cuttable proxy in front of PostgreSQL. */
  pgProxy: TcpProxy | undefined;
  /** Child processes, when the run uses them; replace entries to restart one. */
  processes: DaemonProcess[];
  /** Start a daemon process with the run's environment (the ingester keeps its port). */
  spawn(role: Role): Promise<DaemonProcess>;
  /** Figures the nemesis wants recorded (kills, outage seconds…). */
  notes: Record<string, unknown>;
  /** Resolves when the load has delivered its last call. */
  loadDone: Promise<void>;
}

export interface ScenarioOptions {
  name: string;
  calls: number;
  seconds: number;
  /** Child processes (ingest ×1 on a fixed port, workers ×N) instead of the in-process daemon. */
  workerProcesses?: number;
  copies?: number;
  poisonRate?: number;
  visibilityTimeoutSeconds?: number;
  ownRedis?: boolean;
  pgProxy?: boolean;
  reconcileQps?: number;
  nemesis?: (c: Cluster) => Promise<void>;
  settleTimeoutMs?: number;
}

export interface ScenarioResult {
  report: CheckReport;
  problems: Record<string, number>;
  failedJobs: number;
  /** Why outbound calls are still pending, if any are. */
  pending: PendingCalls;
  figures: Record<string, unknown>;
  cluster: Cluster;
}

/** Alibaba retries after 1, 5 and 10 min; here every second, long enough to outlast any outage. */
const PUSH_RETRIES_MS = Array.from({ length: 180 }, () => 1000);

async function failedJobs(redisUrl: string, prefix: string): Promise<number> {
  let failed = 0;
  for (const name of [QUEUE_NAMES.receipts, QUEUE_NAMES.reconcile]) {
    const q = new Queue(name, { connection: { url: redisUrl }, prefix });
    failed += (await q.getJobCounts("failed")).failed ?? 0;
    await q.close();
  }
  return failed;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const qps = o.reconcileQps ?? 100;
  const db = await createTestDatabase();
  const prefix = randomPrefix();
  const sim = await startMnsSimulator({
    visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 5,
  });
  sim.control.setDetailQps(qps);
  const redis = o.ownRedis ? await startRedisServer() : undefined;
  const redisUrl = redis?.url ?? inject("redisUrl");
  const pgUrl = new URL(db.url);
  const pgProxy = o.pgProxy
    ? await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432))
    : undefined;
  const databaseUrl = pgProxy ? pgProxy.url(db.url) : db.url;
  const env = mnsEnv(sim, {
    VMS_MNS_WAIT_SECONDS: "1",
    VMS_RECONCILE: "on",
    VMS_RECONCILE_DELAY_SECONDS: "0",
    VMS_RECONCILE_QPS: String(qps),
    LOG_LEVEL: "warn",
  });
  const ingestPort = await freePort();
  const processEnv = {
    ...env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    // Readiness is read from the info lines ("http server listening", "workers started").
    LOG_LEVEL: "info",
  };
  let app: TestApp | undefined;
  let push: PushClient | undefined;
  const sent: Sent = emptySent();
  let finishLoad = () => {};
  const cluster: Cluster = {
    sim,
    db,
    prefix,
    redisUrl,
    redis,
    pgProxy,
    url: "",
    processes: [],
    spawn: (role) =>
      spawnDaemon(role, {
        ...processEnv,
        VMS_PUSH_PORT: role === "worker" ? "0" : String(ingestPort),
      }),
    notes: {},
    loadDone: new Promise<void>((resolve) => (finishLoad = resolve)),
  };
  try {
    let pushBase: string;
    if (o.workerProcesses) {
      const ingest = await cluster.spawn("ingest");
      cluster.processes.push(ingest);
      for (let i = 0; i < o.workerProcesses; i++) {
        cluster.processes.push(await cluster.spawn("worker"));
      }
      pushBase = `http://127.0.0.1:${ingestPort}`;
    } else {
      app = await startTestApp({
        databaseUrl,
        redisUrl,
        prefix,
        env,
        // Receipts made durable while Redis was away are queued again within seconds.
        sweep: { intervalMs: 1000, graceMs: 3000 },
      });
      pushBase = app.url;
    }
    cluster.url = pushBase;
    push = createPushClient({
      url: `${pushBase}/push/{messageType}`,
      retryDelaysMs: PUSH_RETRIES_MS,
      timeoutMs: 3000,
    });
    const started = Date.now();
    const loading = runLoad({
      sim,
      push,
      sent,
      calls: o.calls,
      seconds: o.seconds,
      ...(o.copies ? { copies: o.copies } : {}),
      ...(o.poisonRate ? { poisonRate: o.poisonRate } : {}),
    }).finally(finishLoad);
    // Both end before anything is torn down, whichever fails.
    const [loaded, nemesis] = await Promise.allSettled([loading, o.nemesis?.(cluster)]);
    if (nemesis.status === "rejected") {
      throw nemesis.reason;
    }
    if (loaded.status === "rejected") {
      throw loaded.reason;
    }
    const load = loaded.value;
    const loadSeconds = (Date.now() - started) / 1000;
    await load.pushes;

    const report = await settle(o, cluster, sent, load.mnsKeys);
    const failed = await failedJobs(redisUrl, prefix);
    const pending = await pendingCalls(db.pool, redisUrl, prefix);
    const c = sim.control.counters();
    const figures = {
      scenario: o.name,
      form: FULL ? "full" : "short",
      calls: o.calls,
      receipts: load.receipts,
      pushBatches: load.pushBatches,
      pushGaveUp: load.pushGaveUp,
      loadSeconds,
      settleSeconds: (Date.now() - started) / 1000 - loadSeconds,
      checker: { ...report, samples: undefined },
      failedJobs: failed,
      pending,
      mns: c.mns,
      detail: c.detail,
      // Detail answers with data beyond one per outbound call (a job redone after a kill).
      duplicateApiCalls:
        c.detail.calls - c.detail.faults - c.detail.emptyData - sent.outboundCalls.size,
      ...cluster.notes,
    };
    console.log(`reliability ${o.name}: ${JSON.stringify(figures)}`);
    await record(o.name, figures);
    return { report, problems: problems(report), failedJobs: failed, pending, figures, cluster };
  } finally {
    await push?.close();
    await app?.stop().catch(() => {});
    await Promise.all(cluster.processes.map(killHard));
    await pgProxy?.close();
    await sim.close();
    await redis?.stop();
    await db.drop();
    if (!redis) {
      await deleteKeysWithPrefix(prefix);
    }
  }
}

/** Wait until the checker finds nothing wrong (or time runs out), then take the final report. */
async function settle(
  o: ScenarioOptions,
  c: Cluster,
  sent: Sent,
  mnsKeys: Set<string>,
): Promise<CheckReport> {
  const deadline = Date.now() + (o.settleTimeoutMs ?? (FULL ? 240_000 : 60_000));
  const detail = () => {
    const d = c.sim.control.counters().detail;
    const quota = o.reconcileQps ?? 100;
    return {
      quota,
      maxAttemptsPerSecond: d.maxAttemptsPerSecond,
      throttled: d.throttled,
      calls: d.calls,
    };
  };
  // Since when the only problem left is calls whose job a kill lost (see pending.ts): those wait
  // for the daemon's 10-minute recovery scan, so waiting longer here shows nothing new.
  let onlyAwaitingRecoverySince: number | undefined;
  for (;;) {
    const drained = queuesEmpty(c.sim);
    if (drained) {
      // Every MNS message was deleted: each of its receipts was acknowledged.
      for (const key of mnsKeys) {
        const r = sent.receipts.get(key);
        if (r) {
          r.acked = true;
        }
      }
    }
    const report = checkDelivery(sent, await snapshotDatabase(c.db.pool), detail());
    const left = Object.keys(problems(report));
    const open = left.length > 0;
    if (drained && left.length === 1 && left[0] === "notReconciled") {
      const p = await pendingCalls(c.db.pool, c.redisUrl, c.prefix);
      onlyAwaitingRecoverySince =
        p.awaitingRecovery === report.notReconciled
          ? (onlyAwaitingRecoverySince ?? Date.now())
          : undefined;
    } else {
      onlyAwaitingRecoverySince = undefined;
    }
    const settledLate =
      onlyAwaitingRecoverySince !== undefined && Date.now() - onlyAwaitingRecoverySince > 15_000;
    if ((drained && !open) || settledLate || Date.now() > deadline) {
      if (!drained) {
        console.log(`reliability ${o.name}: MNS queues not drained when time ran out`);
      }
      if (open && !settledLate) {
        console.log(`reliability ${o.name}: samples ${JSON.stringify(report.samples)}`);
        const { rows } = await c.db.pool.query(
          `select call_id, reconcile_status, reconcile_attempts, reconcile_due_at, updated_at
             from calls where reconcile_status = 'pending' order by reconcile_due_at desc limit 5`,
        );
        console.log(`reliability ${o.name}: pending calls ${JSON.stringify(rows)}`);
        for (const p of c.processes) {
          console.log(`--- ${p.role} output (tail)\n${p.out().slice(-4000)}`);
        }
      }
      return report;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function record(name: string, figures: unknown): Promise<void> {
  if (!FULL) {
    return;
  }
  const dir = new URL("../../bench/results/", import.meta.url);
  await mkdir(dir, { recursive: true });
  const at = new Date().toISOString().replace(/[:.]/g, "-");
  await writeFile(new URL(`reliability-${name}-${at}.json`, dir), JSON.stringify(figures, null, 2));
}
