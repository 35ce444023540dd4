/**
 * The adaptive rate across worker processes: three `run --role worker` processes configured with
 * VMS_RECONCILE_QPS = 30 against the simulator over HTTP, whose real limit is 12. The shared rate
 * comes down to the real limit and throttling stops being the rule; when the limit rises back
 * to 30 at run time, the rate climbs back to the cap; every call is reconciled, none lost.
 * No timing assertion: each phase is awaited with generous time-outs, only shares are asserted.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inject } from "vitest";

import { createCallGenerator, startSimulator, type Simulator } from "../../src/simulator/index.js";
import { spawnDaemon, type DaemonProcess } from "../helpers/daemons.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

const CAP = 30;
const REAL = 12;
let total = 0;
let db: TestDatabase;
let sim: Simulator;
let redis: Redis;
const prefix = randomPrefix();
const procs: DaemonProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ detailLagMs: 0, detailQps: REAL });
  sim.control.setLatency("detail", 50);
  redis = new Redis(inject("redisUrl"));
});
afterAll(async () => {
  for (const p of procs) {
    p.child.kill("SIGKILL");
  }
  redis?.disconnect();
  await sim?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

/** The shared rate as stored in Redis (calls per window); the cap until the first cut. */
async function sharedRate(): Promise<number> {
  const v = await redis.hget(`${prefix}:reconcile-limiter:rate`, "rate");
  return v === null ? CAP : Number(v);
}

/** Calls the simulator knows and the workers have to reconcile, as persistence would store them. */
async function addCalls(n: number, seed: number): Promise<void> {
  const gen = createCallGenerator({ seed, startTime: Date.now() - 3600_000 });
  const calls = gen.generate(n, ["voice", "verification", "ivr"]);
  sim.control.loadCalls(calls);
  total += n;
  await db.pool.query(
    `insert into calls (call_id, out_id, status_code, originate_time, start_time, end_time)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[],
                          $5::timestamptz[], $6::timestamptz[])`,
    [
      calls.map((c) => c.callId),
      calls.map((c) => c.outId ?? null),
      calls.map((c) => c.statusCode),
      calls.map((c) => new Date(c.originateTime)),
      calls.map((c) => (c.startTime === undefined ? null : new Date(c.startTime))),
      calls.map((c) => new Date(c.endTime)),
    ],
  );
}

async function reconciled(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from calls where reconcile_status = 'reconciled'",
  );
  return rows[0]!.n;
}

it("three processes come down to the real limit together and climb back when it rises", async () => {
  await addCalls(1000, 11);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    VMS_QUEUE_PREFIX: prefix,
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_API_ENDPOINT: sim.url,
    VMS_RECONCILE: "on",
    VMS_RECONCILE_QPS: String(CAP),
    VMS_RECONCILE_DELAY_SECONDS: "0",
    LOG_LEVEL: "info",
  };
  for (let i = 0; i < 3; i++) {
    procs.push(await spawnDaemon("worker", env));
  }

  // Down: the rate all three share falls to about the real limit (a window is 1.03 s, so the
  // real limit is ~12.4 per window; the sawtooth stays between 0.9× and 1×).
  await waitFor(async () => (await sharedRate()) <= REAL * 1.1, {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: "the shared rate down to the real limit",
  });
  // From there on throttling is the exception: measured over the next 300 requests.
  const before = sim.control.counters().detail;
  await waitFor(() => sim.control.counters().detail.calls >= before.calls + 300, {
    timeoutMs: 120_000,
    intervalMs: 200,
    what: "300 more requests",
  });
  const mid = sim.control.counters().detail;
  const throttled = mid.throttled - before.throttled;
  expect(throttled / (throttled + mid.calls - before.calls)).toBeLessThan(0.1);
  // The rate never left [1, cap] and stayed near the real limit, not collapsed.
  expect(await sharedRate()).toBeGreaterThan(REAL * 0.5);
  // Up: the real limit rises to the cap, with a fresh backlog to spend it on (the rate only
  // climbs on answers); the shared rate climbs back to the cap.
  await addCalls(400, 12);
  sim.control.setDetailQps(CAP);
  await waitFor(async () => (await sharedRate()) >= CAP * 0.9, {
    timeoutMs: 120_000,
    intervalMs: 200,
    what: "the shared rate back near the cap",
  });
  expect(await sharedRate()).toBeLessThanOrEqual(CAP);

  await waitFor(async () => (await reconciled()) === total, {
    timeoutMs: 240_000,
    intervalMs: 250,
    what: "every call reconciled",
  }).catch(async (err: unknown) => {
    const { rows } = await db.pool.query(
      "select reconcile_status, count(*)::int as n from calls group by 1",
    );
    throw new Error(
      `${(err as Error).message}: ${JSON.stringify(rows)}, rate ${await sharedRate()}, ${JSON.stringify(sim.control.counters().detail)}`,
    );
  });
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from calls where reconcile_status <> 'reconciled'",
  );
  expect(rows[0]!.n).toBe(0);
  for (const p of procs) {
    expect(p.out()).not.toContain("reconcile job failed");
    expect(p.out()).not.toContain(sim.credentials.accessKeySecret);
  }
}, 300_000);
