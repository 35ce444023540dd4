/**
 * Restarts in the middle of a reconcile backlog: a graceful stop sends nothing twice, and a
 * worker process killed with SIGKILL costs at most the requests it had in flight. Counted by the
 * simulator; one ProdId is configured so that every call costs exactly one request.
 */
import type { ChildProcess } from "node:child_process";

import { afterAll, beforeAll, expect, it } from "vitest";
import { inject } from "vitest";

import {
  createCallGenerator,
  receiptsForCall,
  startSimulator,
  type SimCall,
  type Simulator,
} from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { spawnCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { pushReceipts } from "../helpers/push.js";
import { waitFor } from "../helpers/waitFor.js";

const QPS = 10;
let db: TestDatabase;
let sim: Simulator;
let ingest: TestApp;
const prefix = randomPrefix();
const gen = createCallGenerator({ seed: 5, startTime: Date.now() - 30 * 60_000 });
const children = new Set<ChildProcess>();

function env(): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_API_ENDPOINT: sim.url,
    VMS_RECONCILE_DELAY_SECONDS: "0",
    VMS_RECONCILE_QPS: String(QPS),
    VMS_RECONCILE_PROD_IDS: "11000000300006",
  };
}

const worker = () => startTestApp({ databaseUrl: db.url, prefix, role: "worker", env: env() });

async function reconciled(calls: readonly SimCall[]): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from calls where call_id = any($1) and reconcile_status = 'reconciled'",
    [calls.map((c) => c.callId)],
  );
  return rows[0]?.n ?? 0;
}

async function deliver(calls: readonly SimCall[]): Promise<void> {
  sim.control.loadCalls(calls);
  await pushReceipts(ingest.url, calls.flatMap(receiptsForCall));
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ detailLagMs: 0, detailQps: QPS });
  sim.control.setLatency("detail", 80);
  ingest = await startTestApp({ databaseUrl: db.url, prefix, role: "ingest", env: env() });
});
afterAll(async () => {
  for (const c of children) {
    c.kill("SIGKILL");
  }
  await ingest?.stop();
  await sim?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

it("resumes after a graceful restart without asking anything twice", async () => {
  const calls = gen.generate(40, ["voice"]);
  const before = sim.control.counters().detail.calls;
  const first = await worker();
  await deliver(calls);
  await waitFor(async () => (await reconciled(calls)) >= 12, { what: "a third reconciled" });
  await first.stop();
  // Everything sent before the stop was answered and written; nothing is half done.
  const done = await reconciled(calls);
  expect(done).toBeLessThan(calls.length);
  expect(sim.control.counters().detail.calls - before).toBe(done);

  const second = await worker();
  try {
    await waitFor(async () => (await reconciled(calls)) === calls.length, {
      timeoutMs: 20_000,
      what: "backlog finished by the next worker",
    });
  } finally {
    await second.stop();
  }
  expect(sim.control.counters().detail.calls - before).toBe(calls.length);
});

it("after SIGKILL, asks again only what was in flight", async () => {
  const calls = gen.generate(40, ["voice"]);
  const before = sim.control.counters().detail.calls;
  const child = spawnCli(["run", "--role", "worker"], env());
  children.add(child);
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes("reconciler started"), { timeoutMs: 20_000, what: "child up" });
  await deliver(calls);
  await waitFor(async () => (await reconciled(calls)) >= 12, { what: "a third reconciled" });
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  // Requests the simulator was still answering are counted when it answers them.
  await new Promise((r) => setTimeout(r, 300));
  const inFlight = sim.control.counters().detail.calls - before - (await reconciled(calls));

  const next = await worker();
  try {
    await waitFor(async () => (await reconciled(calls)) === calls.length, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "backlog finished after the kill (stalled jobs included)",
    });
  } finally {
    await next.stop();
  }
  const duplicates = sim.control.counters().detail.calls - before - calls.length;
  expect(duplicates).toBeGreaterThanOrEqual(0);
  expect(duplicates).toBeLessThanOrEqual(inFlight);
});
