/**
 * bench/push.ts — receipts/s durably accepted by POST /push/VoiceReport (100-receipt bodies),
 * next to a bare node:http server that only parses the same bodies, measured in the same run;
 * then p99 latency at half the product's maximum rate (open model).
 *
 *   npx tsx bench/push.ts [--seconds 6]
 *
 * Targets (2 cores): ratio ≥ 0.10×, p99 ≤ 50 ms at half the maximum rate.
 */
import { randomInt } from "node:crypto";

import {
  benchPrefix,
  createBenchDb,
  dropPrefix,
  printFigures,
  REDIS_URL,
  saveResults,
  voiceReport,
} from "./lib.js";
import { closedLoop, openModel, percentile, startChild } from "./load.js";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 6) || 6;
const PER_BODY = 100;
const CONNECTIONS = 32;

function makeBodies(count: number): string[] {
  const run = String(randomInt(1e11, 1e12 - 1));
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify(Array.from({ length: PER_BODY }, (_, i) => voiceReport(b * PER_BODY + i, run))),
  );
}

async function main() {
  // Enough unique bodies that the product never sees a duplicate during the closed-loop run.
  const bodies = makeBodies(Math.max(3000, seconds * 600));

  const bare = await startChild(["bench/bareServer.ts"], {});
  const bareRun = await closedLoop(bare.url, "/push", bodies, {
    connections: CONNECTIONS,
    seconds,
  });
  await bare.stop();

  const db = await createBenchDb();
  const prefix = benchPrefix();
  const product = await startChild(["src/cli.ts", "run", "--role", "ingest"], {
    DATABASE_URL: db.url,
    REDIS_URL,
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    VMS_PUSH_PORT: "0",
    LOG_LEVEL: "info",
  });
  try {
    const productRun = await closedLoop(product.url, "/push/VoiceReport", bodies, {
      connections: CONNECTIONS,
      seconds,
    });
    const maxRate = productRun.requests / productRun.seconds;
    const fresh = makeBodies(Math.ceil((maxRate / 2) * 5) + 10);
    const half = await openModel(product.url, "/push/VoiceReport", fresh, {
      ratePerSecond: maxRate / 2,
      seconds: 5,
    });
    const { rows } = await db.pool.query<{ n: number }>("select count(*)::int as n from receipts");

    const bareRate = (bareRun.requests * PER_BODY) / bareRun.seconds;
    const productRate = (productRun.requests * PER_BODY) / productRun.seconds;
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
    const p50 = percentile(half.latenciesMs, 50);
    const p99 = percentile(half.latenciesMs, 99);
    console.log(
      `latency at half the maximum rate (${Math.round(maxRate / 2)} req/s, open model): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target p99 ≤ 50 ms); non-2xx ${productRun.non2xx + half.non2xx}; rows in receipts ${rows[0]?.n}`,
    );
    await saveResults("push", {
      bareRate,
      productRate,
      ratio: productRate / bareRate,
      p50,
      p99,
      halfRate: maxRate / 2,
      non2xx: productRun.non2xx + half.non2xx,
    });
  } finally {
    await product.stop();
    await db.drop();
    await dropPrefix(prefix);
  }
}

await main();
