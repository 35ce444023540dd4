/**
 * bench/e2e.ts — the whole pipeline at full speed, the daemon as child processes: simulated
 * calls whose receipts arrive half by MNS (a backlog on the simulator's queues) and half by
 * HTTP batch push (the simulator's push client, spread over the ingesters), to reconciled rows.
 *
 *   npx tsx bench/e2e.ts [--calls 2000] [--ingesters 1] [--workers 1] [--qps 100] [--no-reconcile]
 *
 * Two phases, so each cost is seen on its own:
 *   A. ingesters only: every receipt made durable and queued; Redis used_memory growth over
 *      that queued backlog ÷ receipts = bytes per queued receipt (goal R2).
 *   B. workers started: time until every receipt is applied and every outbound call is
 *      reconciled. Reconciliation is bound by the quota (VMS_RECONCILE_QPS), the anchor of the
 *      calls/s figure; bench/all.ts adds the persist bench's raw UNNEST anchor for receipts/s.
 * Peak RSS (VmHWM) of every child is read before it is stopped. bench/scale.ts runs this with
 * other ingester/worker counts.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

import { daemonEnvFor, SIMULATED_QUEUES } from "../src/simulator/daemonEnv.js";
import {
  createPushClient,
  groupByType,
  receiptsForCall,
  startSimulator,
  type Receipt,
} from "../src/simulator/index.js";
import {
  benchPrefix,
  dedupKeys,
  pastCalls,
  cleanUp,
  count,
  createBenchDb,
  dropPrefix,
  type Figure,
  isMain,
  numberArg,
  peakRssMb,
  printFigures,
  REDIS_URL,
  redisUsedMemory,
  saveResults,
  until,
} from "./lib.js";
import { startChild } from "./load.js";

export interface E2eOptions {
  /** Simulated calls (≈ 4.5 receipts each); default 2,000. */
  calls?: number;
  /** Ingest processes (HTTP push + MNS polling); default 1. */
  ingesters?: number;
  /** Worker processes (persistence + reconcile); default 1. */
  workers?: number;
  /** VMS_RECONCILE_QPS and the simulator's detail limit; default 100. */
  qps?: number;
  /** Reconcile against the simulator's QueryCallDetailByCallId; default true. */
  reconcile?: boolean;
  /** Receipts/s anchor measured elsewhere in the same run (bench/all.ts: raw UNNEST). */
  persistAnchor?: { name: string; value: number };
}

/** e2e's phases: poll PostgreSQL every 100 ms, for at most 3 minutes. */
const POLL = { timeoutMs: 180_000, intervalMs: 100 };

export async function run(o: E2eOptions = {}) {
  const calls = o.calls ?? 2000;
  const ingesters = o.ingesters ?? 1;
  const workers = o.workers ?? 1;
  const qps = o.qps ?? 100;
  const reconcile = o.reconcile ?? true;
  const sim = await startSimulator({ detailLagMs: 0, detailQps: qps });
  for (const q of SIMULATED_QUEUES) {
    sim.control.createQueue(q.queueName, {
      messageType: q.messageType,
      visibilityTimeoutSeconds: 60,
    });
  }
  const db = await createBenchDb();
  const prefix = benchPrefix();
  const env = {
    ...daemonEnvFor(sim),
    DATABASE_URL: db.url,
    REDIS_URL,
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    VMS_PUSH_PORT: "0",
    VMS_MNS_WAIT_SECONDS: "1",
    VMS_MNS_CONCURRENCY: "4",
    VMS_RECONCILE: reconcile ? "on" : "off",
    VMS_RECONCILE_DELAY_SECONDS: "0",
    VMS_RECONCILE_QPS: String(qps),
    LOG_LEVEL: "info",
  };
  const children: Awaited<ReturnType<typeof startChild>>[] = [];
  try {
    for (let i = 0; i < ingesters; i++) {
      children.push(await startChild(["src/cli.ts", "run", "--role", "ingest"], env));
    }
    const generated = pastCalls(calls, 11);
    sim.control.loadCalls(generated);
    const toMns: Receipt[] = [];
    const toPush: Receipt[] = [];
    generated.forEach((c, i) => (i % 2 === 0 ? toMns : toPush).push(...receiptsForCall(c)));
    const keys = dedupKeys([...toMns, ...toPush]);
    const outbound = generated.filter((c) => c.kind !== "inbound").length;

    // Phase A: deliver to the ingesters only.
    const memoryBefore = await redisUsedMemory();
    const clients = children.map((c) =>
      createPushClient({
        url: `${c.url}/push/{messageType}`,
        timeoutMs: 10_000,
        retryDelaysMs: [500, 1000, 2000],
      }),
    );
    const t0 = performance.now();
    sim.control.enqueueReceipts(toMns);
    let k = 0;
    const pushes: Promise<unknown>[] = [];
    for (const [type, bodies] of groupByType(toPush)) {
      for (let i = 0; i < bodies.length; i += 100) {
        pushes.push(clients[k++ % clients.length]!.push(type, bodies.slice(i, i + 100)));
      }
    }
    await Promise.all(pushes);
    const tIngested = await until(
      "every receipt durable",
      async () => {
        const queued = sim.control
          .queueNames()
          .reduce(
            (s, q) => s + Object.values(sim.control.queueStats(q)).reduce((a, b) => a + b, 0),
            0,
          );
        return (
          queued === 0 &&
          (await count(db.pool, "select count(*)::int as n from receipts")) >= keys.size
        );
      },
      POLL,
    );
    const redisBytesPerQueuedReceipt = ((await redisUsedMemory()) - memoryBefore) / keys.size;
    await Promise.all(clients.map((c) => c.close()));

    // Phase B: workers apply and reconcile the backlog. The simulator answers in this process:
    // when its event loop stalls, requests that arrived apart are counted together, which the
    // sliding-second figure of the detail API shows as a burst the workers never sent.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const started = await Promise.all(
      Array.from({ length: workers }, () =>
        startChild(["src/cli.ts", "run", "--role", "worker"], env, { ready: /"workers started"/ }),
      ),
    );
    children.push(...started);
    const t1 = Math.min(...started.map((w) => w.readyAt));
    const tPersisted = await until(
      "every receipt applied",
      async () =>
        (await count(
          db.pool,
          "select count(*)::int as n from receipts where processed_at is null",
        )) === 0,
      POLL,
    );
    const tReconciled = reconcile
      ? await until(
          "every outbound call reconciled",
          async () =>
            (await count(
              db.pool,
              "select count(*)::int as n from calls where reconcile_status = 'reconciled'",
            )) >= outbound,
          POLL,
        )
      : tPersisted;
    const peakRss = await Promise.all(
      children.map(async (c, i) => ({
        process: i < ingesters ? `ingest ${i + 1}` : `worker ${i - ingesters + 1}`,
        peakRssMb: await peakRssMb(c.child.pid),
      })),
    );
    loopDelay.disable();
    const detail = sim.control.counters().detail;
    const summary = {
      calls,
      receipts: keys.size,
      ingesters,
      workers,
      qps,
      reconcile,
      ingestPerSecond: keys.size / ((tIngested - t0) / 1000),
      persistPerSecond: keys.size / ((tPersisted - t1) / 1000),
      reconciledCallsPerSecond: outbound / ((tReconciled - t1) / 1000),
      backlogReconciledSeconds: (tReconciled - t1) / 1000,
      /** Goal L3: a backlog is reconciled within backlog / Q + 2 s. */
      backlogBoundSeconds: outbound / qps + 2,
      endToEndSeconds: (tReconciled - t0) / 1000 - (t1 - tIngested) / 1000,
      redisBytesPerQueuedReceipt,
      peakRss,
      detailCalls: detail.calls,
      detailMaxPerSecond: detail.maxAttemptsPerSecond,
      throttled: detail.throttled,
      /** Longest stall of this process's event loop (the simulator's) in phase B, ms. */
      // (The histogram's samples include its 5 ms resolution timer itself.)
      simulatorLoopStallMaxMs: Math.max(0, loopDelay.max / 1e6 - 5),
    };
    const figures: Figure[] = [
      {
        name: "receipts applied by the workers (queued backlog → rows)",
        unit: "receipts/s",
        value: summary.persistPerSecond,
        anchorName:
          o.persistAnchor?.name ??
          "raw UNNEST is measured by bench/persist.ts; npm run bench pairs them",
        anchor: o.persistAnchor?.value ?? NaN,
      },
    ];
    if (reconcile) {
      figures.push({
        name: "outbound calls reconciled",
        unit: "calls/s",
        value: summary.reconciledCallsPerSecond,
        anchorName: "VMS_RECONCILE_QPS (one detail request per call at the quota)",
        anchor: qps,
      });
      figures.push({
        name: "time to reconcile the whole backlog",
        unit: "s",
        value: summary.backlogReconciledSeconds,
        anchorName: "backlog ÷ VMS_RECONCILE_QPS + 2 s (goal L3)",
        anchor: summary.backlogBoundSeconds,
        target: "≤ 1.0×",
      });
    }
    printFigures(
      `e2e: ${calls} calls (${keys.size} receipts, half MNS, half push) → ${reconcile ? "reconciled " : ""}rows; ${ingesters} ingester(s), ${workers} worker(s)`,
      figures,
    );
    console.log(
      `ingest (push + MNS → durable, no worker running) ${Math.round(summary.ingestPerSecond)} receipts/s; end to end ${summary.endToEndSeconds.toFixed(1)} s; Redis ${Math.round(redisBytesPerQueuedReceipt)} B per queued receipt; detail API ${detail.calls} calls, max ${detail.maxAttemptsPerSecond} in a second, ${detail.throttled} throttled, simulator event loop stalled up to ${Math.round(summary.simulatorLoopStallMaxMs)} ms; peak RSS ${peakRss.map((p) => `${p.process} ${Math.round(p.peakRssMb ?? NaN)} MB`).join(", ")}`,
    );
    await saveResults(`e2e-${ingesters}i-${workers}w`, summary);
    return summary;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await cleanUp(
      () => sim.close(),
      () => db.drop(),
      () => dropPrefix(prefix),
    );
  }
}

if (isMain(import.meta.url)) {
  await run({
    calls: numberArg("calls") ?? 2000,
    ingesters: numberArg("ingesters") ?? 1,
    workers: numberArg("workers") ?? 1,
    qps: numberArg("qps") ?? 100,
    reconcile: !process.argv.includes("--no-reconcile"),
  });
}
