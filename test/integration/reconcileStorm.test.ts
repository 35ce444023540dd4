/**
 * Two worker processes' worth of reconcilers (two apps sharing PostgreSQL, Redis and the
 * limiter) against a simulator whose quota equals VMS_RECONCILE_QPS, through a 5xx storm and a
 * throttling storm: no call lost, and the simulator never saw more calls in a sliding second
 * than the quota.
 */
import { Writable } from "node:stream";

import { afterAll, beforeAll, expect, it } from "vitest";
import { inject } from "vitest";

import { buildApp, type App } from "../../src/app.js";
import type { Role } from "../../src/app/roles.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import {
  createCallGenerator,
  receiptsForCall,
  startSimulator,
  type Fault,
  type Simulator,
} from "../../src/simulator/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { pushReceipts } from "../helpers/push.js";
import { waitFor } from "../helpers/waitFor.js";

const QPS = 20;
let db: TestDatabase;
let sim: Simulator;
const prefix = randomPrefix();
const apps: Array<{ app: App; logs: () => string }> = [];

async function startApp(role: Role) {
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    LOG_LEVEL: "debug",
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_API_ENDPOINT: sim.url,
    VMS_RECONCILE_DELAY_SECONDS: "0",
    VMS_RECONCILE_QPS: String(QPS),
  });
  let buffer = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buffer += chunk.toString();
      cb();
    },
  });
  const app = await buildApp(config, {
    role,
    logger: createLogger({ level: config.log.level, destination }),
    migrate: false,
    port: 0,
    reconcile: { halfOpenAfterMs: 300 },
  });
  await app.start();
  const entry = { app, logs: () => buffer };
  apps.push(entry);
  return entry;
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ detailLagMs: 0, detailQps: QPS });
  sim.control.setLatency("detail", 30);
});
afterAll(async () => {
  for (const a of apps) {
    await a.app.stop();
  }
  await sim?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

const FIVE_XX: Array<[Fault, number]> = [
  [{ kind: "error", status: 500, code: "InternalError" }, 8],
  [{ kind: "error", status: 503, code: "ServiceUnavailable" }, 4],
  [{ kind: "garbage", status: 502 }, 2],
  [{ kind: "drop" }, 2],
];

it("survives 5xx and throttling storms across two workers without losing a call or exceeding the quota", async () => {
  const a = await startApp("all");
  const b = await startApp("worker");
  const gen = createCallGenerator({
    seed: 11,
    startTime: Date.now() - 30 * 60_000,
    meanGapMs: 500,
  });
  const calls = gen.generate(80, ["voice", "voice", "voice", "verification"]);
  sim.control.loadCalls(calls);

  let injected = 0;
  for (const [fault, n] of FIVE_XX) {
    sim.control.injectFault("detail", fault, n);
    injected += n;
  }
  await pushReceipts(a.app.url() ?? "", calls.flatMap(receiptsForCall));
  await waitFor(() => sim.control.counters().detail.faults >= injected, {
    timeoutMs: 20_000,
    what: "5xx storm consumed",
  });
  sim.control.injectFault("detail", { kind: "error", status: 400, code: "Throttling.User" }, 3);
  injected += 3;
  await waitFor(() => sim.control.counters().detail.faults >= injected, {
    timeoutMs: 20_000,
    what: "throttling storm consumed",
  });

  const ids = calls.map((c) => c.callId);
  await waitFor(
    async () =>
      (
        await db.pool.query<{ n: number }>(
          "select count(*)::int as n from calls where call_id = any($1) and reconcile_status = 'reconciled'",
          [ids],
        )
      ).rows[0]?.n === ids.length,
    { timeoutMs: 30_000, intervalMs: 100, what: "every call reconciled" },
  );

  const c = sim.control.counters().detail;
  expect(c.maxAttemptsPerSecond).toBeLessThanOrEqual(QPS);
  expect(c.maxPerSecond).toBeLessThanOrEqual(QPS);
  expect(c.throttled).toBe(0);

  const metrics = await Promise.all(
    apps.map(async ({ app }) => (await app.metrics.registry.metrics()).toString()),
  );
  // Both processes did real work, and the 5xx storm opened a circuit somewhere.
  for (const text of metrics) {
    expect(text).toMatch(/voice_receipts_reconcile_calls_total\{outcome="found"\} [1-9]/);
  }
  expect(metrics.join("\n")).toMatch(/voice_receipts_reconcile_circuit_opens_total [1-9]/);
  expect(metrics.join("\n")).toMatch(
    /voice_receipts_reconcile_calls_total\{outcome="throttled"\} [1-9]/,
  );
  for (const { logs } of [a, b]) {
    expect(logs()).not.toContain("reconcile job failed");
    expect(logs()).not.toContain(sim.credentials.accessKeySecret);
  }
});
