/**
 * bench/all.ts (`npm run bench`) — every benchmark in one run, shortened so the whole takes a
 * few minutes on 2 cores: push, persist, MNS drain, reconcile (at the quota, on the realistic
 * mix of bench/reconcile.ts --mix for the requests spent per reconciled call, then with the real
 * quota at half VMS_RECONCILE_QPS and rising back), then end to end (push + MNS →
 * reconciled rows). Each prints its figure next to its anchor measured in the same run, and the
 * ratio; at the end one table of every figure, anchor and ratio, the peak RSS of every process
 * and the Redis memory per queued receipt. The summary is written to bench/results/all-<time>.json.
 *
 *   npm run bench [-- --quick]      # --quick: smaller sizes still (a smoke test, ~1.5 min)
 *
 * Run the benches one by one (npx tsx bench/push.ts …) for the longer, steadier forms.
 */
import os from "node:os";

import Table from "cli-table3";

import { run as runE2e } from "./e2e.js";
import { saveResults } from "./lib.js";
import { run as runMns } from "./mns.js";
import { run as runPersist } from "./persist.js";
import { run as runPush } from "./push.js";
import { run as runReconcile } from "./reconcile.js";
import { runAdaptive } from "./reconcileAdaptive.js";

const quick = process.argv.includes("--quick");

interface Row {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  anchor: string;
  anchorValue: number;
  target: string;
}

const fmt = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n)
    ? "—"
    : n >= 100
      ? Math.round(n).toLocaleString("en-US")
      : n.toFixed(2);

async function main() {
  const started = performance.now();
  const push = await runPush({ seconds: quick ? 2 : 4, rounds: quick ? 1 : 2 });
  const persist = await runPersist({ calls: quick ? 2000 : 6000, rounds: 1 });
  const mns = await runMns({ messages: quick ? 5000 : 15_000 });
  const reconcile = await runReconcile({ seconds: quick ? 8 : 15 });
  // 3,500 calls as in docs/benchmarks.md: the learning (ProdIds, the robot kind) costs a few
  // hundred requests whatever the size, so a shorter run would measure mostly the learning.
  const reconcileMix = await runReconcile({ seconds: quick ? 15 : 35, mix: true });
  const adaptive = await runAdaptive({ qps: 100, realQps: 50, seconds: quick ? 20 : 40 });
  const e2e = await runE2e({
    calls: quick ? 500 : 2000,
    persistAnchor: {
      name: "raw UNNEST b1000 (persist bench, 1 connection)",
      value: persist.anchor1,
    },
  });

  const rows: Row[] = [
    {
      bench: "push",
      figure: "receipts accepted (durable) via POST /push, 100 per body",
      value: push.productRate,
      unit: "receipts/s",
      anchor: "bare node:http parse-only",
      anchorValue: push.bareRate,
      target: "≥ 0.10×",
    },
    {
      bench: "push",
      figure: "p99 latency at half that rate (open model)",
      value: push.p99,
      unit: "ms",
      anchor: "Alibaba's 700 ms budget",
      anchorValue: 700,
      target: "≤ 40 ms",
    },
    {
      bench: "persist",
      figure: "receipts from the queue to rows, 1 worker",
      value: persist.rate,
      unit: "receipts/s",
      anchor: "raw UNNEST upsert b1000, 1 connection",
      anchorValue: persist.anchor1,
      target: "≥ 0.35×",
    },
    {
      bench: "mns",
      figure: "messages drained (stored + deleted), 4 pollers, +20 ms per request",
      value: mns.rate,
      unit: "msgs/s",
      anchor: `pollers × 16 / receive RTT (${mns.rttMs.toFixed(1)} ms)`,
      anchorValue: mns.theoretical,
      target: "≥ 0.85×",
    },
    {
      bench: "reconcile",
      figure: "QueryCallDetailByCallId calls sustained, 2 workers, 200 ms latency",
      value: reconcile.sustainedCallsPerSecond,
      unit: "calls/s",
      anchor: "VMS_RECONCILE_QPS",
      anchorValue: reconcile.qps,
      target: "≥ 0.95×, ≤ 1.0×",
    },
    {
      bench: "reconcile",
      figure: "most detail requests in any sliding second",
      value: reconcile.simulator.maxAttemptsPerSecond,
      unit: "requests",
      anchor: "VMS_RECONCILE_QPS",
      anchorValue: reconcile.qps,
      target: "≤ 1.0×",
    },
    {
      bench: "reconcile",
      figure: "throttled answers at the cap",
      value: reconcile.simulator.throttled,
      unit: "responses",
      anchor: "all detail requests",
      anchorValue: reconcile.simulator.calls + reconcile.simulator.throttled,
      target: "≤ 0.001×",
    },
    {
      bench: "reconcile --mix",
      figure: "requests per reconciled call, steady state (robot, no out_id, never found)",
      value: reconcileMix.requestsPerReconciledSteady,
      unit: "requests",
      anchor: "one request per call",
      anchorValue: 1,
      target: "≤ 1.15×",
    },
    {
      bench: "reconcile --mix",
      figure: "findable calls reconciled",
      value: reconcileMix.reconciled,
      unit: "calls",
      anchor: "findable calls",
      anchorValue: reconcileMix.findable,
      target: "= 1.0×",
    },
    {
      bench: "reconcile",
      figure: "real limit at half the cap: answered requests/s after convergence",
      value: adaptive.low?.answeredPerSecond ?? NaN,
      unit: "req/s",
      anchor: "real limit",
      anchorValue: adaptive.realQps,
      target: "≥ 0.8×",
    },
    {
      bench: "reconcile",
      figure: "real limit at half the cap: seconds from the first throttle to convergence",
      value: adaptive.convergeSeconds,
      unit: "s",
      anchor: "target",
      anchorValue: 30,
      target: "≤ 1.0×",
    },
    {
      bench: "reconcile",
      figure: "real limit at half the cap: throttled share of requests after convergence",
      value: adaptive.low?.throttledShare ?? NaN,
      unit: "",
      anchor: "all requests",
      anchorValue: 1,
      target: "≤ 0.05×",
    },
    {
      bench: "reconcile",
      figure: "limit back at the cap: seconds until ≥ 0.9× of it",
      value: adaptive.recoverSeconds,
      unit: "s",
      anchor: "target",
      anchorValue: 60,
      target: "≤ 1.0×",
    },
    {
      bench: "reconcile",
      figure: "limit back at the cap: answered requests/s after recovery",
      value: adaptive.high?.answeredPerSecond ?? NaN,
      unit: "req/s",
      anchor: "VMS_RECONCILE_QPS",
      anchorValue: adaptive.qps,
      target: "≥ 0.9×",
    },
    {
      bench: "e2e",
      figure: "receipts applied (push + MNS backlog → rows)",
      value: e2e.persistPerSecond,
      unit: "receipts/s",
      anchor: "raw UNNEST upsert b1000 (persist bench)",
      anchorValue: persist.anchor1,
      target: "—",
    },
    {
      bench: "e2e",
      figure: "outbound calls reconciled",
      value: e2e.reconciledCallsPerSecond,
      unit: "calls/s",
      anchor: "VMS_RECONCILE_QPS",
      anchorValue: e2e.qps,
      target: "—",
    },
    {
      bench: "e2e",
      figure: "time to reconcile the whole backlog",
      value: e2e.backlogReconciledSeconds,
      unit: "s",
      anchor: "backlog ÷ VMS_RECONCILE_QPS + 2 s (L3)",
      anchorValue: e2e.backlogBoundSeconds,
      target: "≤ 1.0×",
    },
  ];
  // No colours: the table is also read from logs and files.
  const table = new Table({
    style: { head: [], border: [] },
    head: ["bench", "figure", "value", "anchor", "anchor value", "ratio", "target"],
  });
  for (const r of rows) {
    table.push([
      r.bench,
      r.figure,
      `${fmt(r.value)} ${r.unit}`,
      r.anchor,
      fmt(r.anchorValue),
      `${(r.value / r.anchorValue).toFixed(3)}×`,
      r.target,
    ]);
  }
  const rss = [
    { process: "push: ingest daemon", peakRssMb: push.daemonPeakRssMb },
    { process: "persist: worker", peakRssMb: persist.workerPeakRssMb },
    ...reconcile.workerPeakRssMb.map((m, i) => ({
      process: `reconcile: worker ${i + 1}`,
      peakRssMb: m,
    })),
    ...e2e.peakRss.map((p) => ({ process: `e2e: ${p.process}`, peakRssMb: p.peakRssMb })),
  ];
  const minutes = (performance.now() - started) / 60_000;
  console.log(
    `\n== all benchmarks (${os.cpus().length} cores, node ${process.version}, ${minutes.toFixed(1)} min)`,
  );
  console.log(table.toString());
  console.log(
    `peak RSS (VmHWM): ${rss.map((r) => `${r.process} ${fmt(r.peakRssMb)} MB`).join("; ")} (target: push ingester under its 32-connection flood ≤ 256 MB at default settings)`,
  );
  console.log(
    `Redis memory per queued receipt (used_memory growth ÷ receipts queued): persist backlog ${fmt(persist.redisBytesPerQueuedReceipt)} B, e2e backlog ${fmt(e2e.redisBytesPerQueuedReceipt)} B (target ≤ payload + 800 B)`,
  );
  await saveResults("all", {
    quick,
    minutes,
    rows: rows.map((r) => ({ ...r, ratio: r.value / r.anchorValue })),
    peakRss: rss,
    redisBytesPerQueuedReceipt: {
      persist: persist.redisBytesPerQueuedReceipt,
      e2e: e2e.redisBytesPerQueuedReceipt,
    },
    push,
    persist,
    mns,
    reconcile,
    reconcileMix,
    adaptive,
    e2e,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
