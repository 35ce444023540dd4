/**
 * bench/push.ts — receipts/s durably accepted by POST /push/VoiceReport (100-receipt bodies),
 * next to a bare node:http server that only parses the same bodies, measured in the same run;
 * then p99 latency at half the product's maximum rate (open model).
 *
 * `run(options)` does the same and returns the figures (bench/all.ts).
 *
 *   npx tsx bench/push.ts [--seconds 5] [--rounds 2] [--rate <req/s for the latency run>]
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/push.ts     # CPU profile of the daemon
 *
 * Anchor and product run alternately, `--rounds` times each, with the same bodies shape, the
 * same load generator and the same number of connections; each figure is its best round, since
 * on a shared machine interference only ever slows a round down. CPU per receipt (daemon,
 * PostgreSQL, Redis, load generator) is read from /proc over the product's rounds.
 *
 * Targets (2 cores, issue #23): ratio ≥ 0.10×, p99 ≤ 40 ms at half the maximum rate, and the
 * ingester's peak RSS under the 32-connection flood ≤ 256 MB at default settings (bounded by
 * VMS_PUSH_MAX_BYTES_IN_FLIGHT, not by a V8 heap flag).
 */
import { randomInt } from "node:crypto";
import os from "node:os";

import {
  backendsOf,
  benchPrefix,
  cleanUp,
  cpuBetween,
  cpuSnapshot,
  createBenchDb,
  dropPrefix,
  isMain,
  numberArg,
  peakRssMb,
  printFigures,
  REDIS_URL,
  saveResults,
  voiceReport,
} from "./lib.js";
import { closedLoop, openModel, percentile, profileArgs, startChild } from "./load.js";

export interface PushBenchOptions {
  /** Seconds per round; default 5. */
  seconds?: number;
  /** Rounds of anchor and product each; default 2. */
  rounds?: number;
  /** Open-model rate in requests/s; default half the measured maximum. */
  rate?: number | undefined;
}

// Set by run(); module-level so the helpers below read them as before.
let seconds = 5;
let rounds = 2;
let fixedRate: number | undefined;
const PER_BODY = 100;
const CONNECTIONS = 32;

function makeBodies(count: number): string[] {
  const run = String(randomInt(1e11, 1e12 - 1));
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify(Array.from({ length: PER_BODY }, (_, i) => voiceReport(b * PER_BODY + i, run))),
  );
}

/** Enough unique bodies that the product never sees a duplicate during one round. */
const bodiesPerRound = () => makeBodies(Math.max(3000, seconds * 600));

export async function run(o: PushBenchOptions = {}) {
  seconds = o.seconds ?? 5;
  rounds = o.rounds ?? 2;
  fixedRate = o.rate;
  const db = await createBenchDb();
  const prefix = benchPrefix();
  const bare = await startChild(["bench/bareServer.ts"], {});
  const product = await startChild(
    ["src/cli.ts", "run", "--role", "ingest"],
    {
      DATABASE_URL: db.url,
      REDIS_URL,
      VMS_QUEUE_PREFIX: prefix,
      VMS_PUSH_HOST: "127.0.0.1",
      VMS_PUSH_PORT: "0",
      LOG_LEVEL: "info",
    },
    { nodeArgs: profileArgs() },
  ).catch(async (err: unknown) => {
    await bare.stop();
    throw err;
  });
  try {
    const bareRates: number[] = [];
    const productRates: number[] = [];
    let non2xx = 0;
    let accepted = 0;
    const cpu: Record<string, number> = {};
    const bareCpu: Record<string, number> = {};
    let bareReceipts = 0;
    let productSeconds = 0;
    for (let r = 0; r < rounds; r++) {
      const bodies = bodiesPerRound();
      const bareBefore = await cpuSnapshot();
      const bareRun = await closedLoop(bare.url, "/push", bodies, {
        connections: CONNECTIONS,
        seconds,
      });
      const bareLabels = new Map([
        [process.pid, "load generator"],
        [bare.child.pid ?? -1, "bare server"],
      ]);
      for (const [k, v] of Object.entries(
        cpuBetween(bareBefore, await cpuSnapshot(), bareLabels),
      )) {
        bareCpu[k] = (bareCpu[k] ?? 0) + v;
      }
      bareRates.push((bareRun.requests * PER_BODY) / bareRun.seconds);
      bareReceipts += bareRun.requests * PER_BODY;

      const before = await cpuSnapshot();
      const run = await closedLoop(product.url, "/push/VoiceReport", bodies, {
        connections: CONNECTIONS,
        seconds,
      });
      const after = await cpuSnapshot();
      const labels = await backendsOf(db.pool, "postgres (this db)");
      labels.set(process.pid, "load generator");
      labels.set(product.child.pid ?? -1, "daemon");
      for (const [k, v] of Object.entries(cpuBetween(before, after, labels))) {
        cpu[k] = (cpu[k] ?? 0) + v;
      }
      productRates.push((run.requests * PER_BODY) / run.seconds);
      accepted += run.requests * PER_BODY;
      productSeconds += run.seconds;
      non2xx += run.non2xx;
    }
    await bare.stop();

    const bareRate = Math.max(...bareRates);
    const productRate = Math.max(...productRates);
    const maxRate = productRate / PER_BODY;
    const openRate = fixedRate ?? maxRate / 2;
    const half = await openModel(
      product.url,
      "/push/VoiceReport",
      makeBodies(Math.ceil(openRate * 5) + 10),
      { ratePerSecond: openRate, seconds: 5 },
    );
    non2xx += half.non2xx;
    const { rows } = await db.pool.query<{ n: number }>("select count(*)::int as n from receipts");
    const daemonPeakRssMb = await peakRssMb(product.child.pid);

    printFigures("push: POST /push/VoiceReport, 100 receipts per body, 200 after durable accept", [
      {
        name: "accepted",
        unit: "receipts/s",
        value: productRate,
        anchorName: "bare node:http parse-only",
        anchor: bareRate,
        target: "≥ 0.10×",
      },
    ]);
    const round = (xs: number[]) => xs.map((x) => Math.round(x).toLocaleString("en-US")).join(", ");
    console.log(
      `best of ${rounds} rounds of ${seconds} s, ${CONNECTIONS} connections: product ${round(productRates)}; anchor ${round(bareRates)}`,
    );
    const p50 = percentile(half.latenciesMs, 50);
    const p99 = percentile(half.latenciesMs, 99);
    const p999 = percentile(half.latenciesMs, 99.9);
    console.log(
      `latency at ${fixedRate ? "a fixed" : "half the maximum"} rate (${Math.round(openRate)} req/s, open model, 5 s): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, p99.9 ${p999.toFixed(1)} ms (target p99 ≤ 40 ms); non-2xx ${non2xx}; rows in receipts ${rows[0]?.n}`,
    );
    console.log(
      `daemon peak RSS (VmHWM) ${daemonPeakRssMb === undefined ? "?" : Math.round(daemonPeakRssMb)} MB (target ≤ 256 MB at default settings)`,
    );
    const usPer = (k: string) => Math.round(((cpu[k] ?? 0) * 1e6) / accepted);
    const busy =
      Object.values(cpu).reduce((a, b) => a + b, 0) / (productSeconds * os.cpus().length);
    console.log(
      `CPU during the product's rounds, µs per receipt: daemon ${usPer("daemon")}, postgres backends of this db ${usPer("postgres (this db)")} (+ rest of postgres ${usPer("postgres")}), redis ${usPer("redis-server")}, load generator ${usPer("load generator")}; other processes ${usPer("other")} (machine busy ${Math.round(busy * 100)}%)`,
    );
    const barePer = (k: string) => (((bareCpu[k] ?? 0) * 1e6) / bareReceipts).toFixed(1);
    console.log(
      `CPU during the anchor's rounds, µs per receipt: bare server ${barePer("bare server")}, load generator ${barePer("load generator")} (the generator shares the 2 cores: it bounds the anchor, not the product)`,
    );
    const summary = {
      bareRate,
      productRate,
      ratio: productRate / bareRate,
      bareRates,
      productRates,
      p50,
      p99,
      p999,
      halfRate: maxRate / 2,
      openRate,
      non2xx,
      cpuUsPerReceipt: {
        daemon: usPer("daemon"),
        postgresThisDb: usPer("postgres (this db)"),
        postgresRest: usPer("postgres"),
        redis: usPer("redis-server"),
        loadGenerator: usPer("load generator"),
        other: usPer("other"),
      },
      daemonPeakRssMb,
    };
    await saveResults("push", summary);
    return summary;
  } finally {
    await bare.stop();
    await product.stop();
    await cleanUp(
      () => db.drop(),
      () => dropPrefix(prefix),
    );
  }
}

if (isMain(import.meta.url)) {
  await run({
    seconds: numberArg("seconds") ?? 5,
    rounds: numberArg("rounds") ?? 2,
    rate: numberArg("rate"),
  });
}
