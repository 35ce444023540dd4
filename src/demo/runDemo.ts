/**
 * `voice-receipts demo`: the whole product on the built-in simulator, in one process.
 * Generates calls of every product, delivers their receipts through MNS and HTTP push (with
 * duplicates and reordering), lets the daemon store and reconcile them (shortened lag), then
 * prints the reports. Runs in a database and queue prefix of its own, created beside
 * DATABASE_URL's and kept for inspection (isolation.ts); REDIS_URL as every other command.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";

import { sleep } from "../infra/sleep.js";
import { buildApp } from "../app.js";
import { loadConfig, redactUrl } from "../config/index.js";
import { createLogger } from "../logger.js";
import { formatResult } from "../report/format.js";
import { findReport, reportParams, runReport } from "../report/reports.js";
import {
  createRng,
  createPushClient,
  startSimulator,
  withDuplicates,
  reordered,
} from "../simulator/index.js";
import { SIMULATED_QUEUES, daemonEnvFor } from "../simulator/daemonEnv.js";
import type { Receipt } from "../simulator/receipts.js";
import { createPool } from "../store/db.js";
import { pipelineProgress } from "../store/progress.js";
import { createDemoDatabase, demoTarget } from "./isolation.js";

export interface DemoOptions {
  calls: number;
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  /** Give up waiting after this long (the demo aims to finish well under a minute). */
  timeoutMs?: number;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const { out } = options;
  // Validates the environment before anything is created.
  const base = loadConfig(options.env);
  const target = demoTarget(base.databaseUrl);
  await createDemoDatabase(base.databaseUrl, target);
  out(
    `demo database ${target.database} (created beside ${redactUrl(base.databaseUrl)}), queue prefix ${target.queuePrefix}`,
  );
  const sim = await startSimulator({ detailLagMs: 0, seed: Date.now() % 100_000 });
  for (const { messageType, queueName } of SIMULATED_QUEUES) {
    sim.control.createQueue(queueName, { messageType, visibilityTimeoutSeconds: 30 });
  }
  const pushToken = randomBytes(12).toString("hex");
  const config = loadConfig({
    ...options.env,
    DATABASE_URL: target.url,
    VMS_QUEUE_PREFIX: target.queuePrefix,
    ...daemonEnvFor(sim),
    VMS_MNS_WAIT_SECONDS: "2",
    VMS_PUSH_HOST: "127.0.0.1",
    VMS_PUSH_TOKEN: pushToken,
    VMS_RECONCILE: "on",
    VMS_RECONCILE_DELAY_SECONDS: "1",
    // The simulator's OSS answers on 127.0.0.1; only the demo's daemon may download from it.
    VMS_RECORDINGS_HOSTS: "127.0.0.1",
  });
  // The daemon's own log lines would drown the demo's progress; keep warnings only.
  const logger = createLogger({
    level: "warn",
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const app = await buildApp(config, { role: "all", logger, port: 0 });
  const pool = createPool(config.databaseUrl, { max: 2 });
  try {
    await app.start();
    out(
      `simulator at ${sim.url}; daemon at ${app.url()}; database ${redactUrl(config.databaseUrl)}`,
    );
    const store = config.recordings.store;
    out(
      store.kind === "off"
        ? "recordings: VMS_RECORDINGS_STORE=off, recordings are not downloaded"
        : `recordings are stored in ${store.kind === "file" ? `file://${store.dir}` : `s3://${store.bucket}/${store.prefix}`}`,
    );

    // 1. Calls of every product and their receipts.
    const calls = sim.control.generateCalls(options.calls);
    sim.control.loadCalls(calls);
    const rng = createRng(7);
    const { receiptsForCall } = await import("../simulator/receipts.js");
    const receipts = calls.flatMap((c) => receiptsForCall(c));
    const half = Math.ceil(calls.length / 2);
    const viaMns = calls.slice(0, half).flatMap((c) => receiptsForCall(c));
    const viaHttp = receipts.slice(viaMns.length);
    out(
      `generated ${calls.length} calls (${summarizeKinds(calls.map((c) => c.kind))}) → ${receipts.length} receipts`,
    );

    // 2. Half through MNS, half through HTTP push; duplicates and reordering in both.
    sim.control.enqueueReceipts(reordered(withDuplicates(viaMns, rng, 0.1), rng));
    const push = createPushClient({
      url: `${app.url()}/push/{messageType}?token=${pushToken}`,
      retryDelaysMs: [500, 1000],
      timeoutMs: 5000,
    });
    const byType = new Map<string, Receipt[]>();
    for (const r of reordered(withDuplicates(viaHttp, rng, 0.1), rng)) {
      byType.set(r.messageType, [...(byType.get(r.messageType) ?? []), r]);
    }
    const outcomes = (
      await Promise.all(
        [...byType].map(([type, list]) =>
          push.pushAll(
            type,
            list.map((r) => r.body),
          ),
        ),
      )
    ).flat();
    await push.close();
    out(
      `delivered ${viaMns.length} receipts to MNS and ${viaHttp.length} by HTTP push (${outcomes.filter((o) => o.delivered).length}/${outcomes.length} pushes acknowledged), with ~10% duplicates`,
    );

    // 3. Wait until stored, applied and reconciled.
    const reconcilable = calls.filter((c) => c.prodId !== undefined).length;
    const deadline = Date.now() + (options.timeoutMs ?? 50_000);
    for (;;) {
      const s = await pipelineProgress(pool);
      out(
        `  receipts stored ${s?.receipts ?? 0}, applied ${(s?.receipts ?? 0) - (s?.unprocessed ?? 0)}, calls ${s?.calls ?? 0}, reconciled ${s?.reconciled ?? 0}/${reconcilable}, recordings stored ${(s?.recordings ?? 0) - (s?.unfetched ?? 0)}/${s?.recordings ?? 0}`,
      );
      if (
        s &&
        s.unprocessed === 0 &&
        s.receipts > 0 &&
        s.reconciled >= reconcilable &&
        s.unfetched === 0
      ) {
        break;
      }
      if (Date.now() > deadline) {
        out("  (stopped waiting: the rest will be completed by a running daemon)");
        break;
      }
      await sleep(1000);
    }

    // 4. The reports.
    for (const name of ["daily", "status", "robot-tasks", "reconcile", "recordings"]) {
      const report = findReport(name);
      const result = await runReport(pool, report, reportParams(report, undefined, {}));
      out(`\n== report ${name}`);
      out(
        formatResult(
          result,
          "table",
          report.percentColumns ? { percentColumns: report.percentColumns } : {},
        ).trimEnd(),
      );
    }
    out(
      `\nThe demo's data is kept in database ${target.database}: tables receipts, calls, call_events, recordings, rejected_receipts; ` +
        "views report_daily, report_status, report_outcomes, report_robot_tasks, report_reconcile, report_dtmf. " +
        `Try \`DATABASE_URL=${redactUrl(target.url)} npx voice-receipts report out-id <id>\` or psql; ` +
        "`npx voice-receipts demo --clean` removes every demo database and its queue keys.",
    );
  } finally {
    await app.stop();
    await pool.end();
    await sim.close();
  }
}

function summarizeKinds(kinds: string[]): string {
  const counts = new Map<string, number>();
  for (const k of kinds) {
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
}
