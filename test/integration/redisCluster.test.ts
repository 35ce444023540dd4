/**
 * The daemon on a Redis Cluster: three masters started here from the local redis-server binary
 * on loopback ports, joined with `redis-cli --cluster create`, then receipts pushed over HTTP,
 * persisted through the BullMQ queue on the cluster, and reconciled against the simulator with
 * the shared limiter and ProdId memory on the cluster too. Every key we make must sit in the
 * slot of the prefix's hash tag. Skipped (with the reason) only where redis-server is absent.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createRedis, redisIsDurable } from "../../src/infra/redis.js";
import {
  createCallGenerator,
  receiptsForCall,
  startSimulator,
  type Simulator,
} from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { randomPrefix } from "../helpers/redis.js";
import { pushReceipts } from "../helpers/push.js";
import { callsSettled, reconcileEnv } from "../helpers/reconcile.js";
import { waitFor } from "../helpers/waitFor.js";

const run = promisify(execFile);
const redisServerAvailable =
  spawnSync("redis-server", ["--version"]).status === 0 &&
  spawnSync("redis-cli", ["--version"]).status === 0;
if (!redisServerAvailable) {
  console.warn(
    "redisCluster.test.ts skipped: redis-server / redis-cli not found on PATH (install Redis ≥ 6.2 to run the Redis Cluster test)",
  );
}

/** A loopback port that is free, and whose cluster bus port (+10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  for (;;) {
    const port = await tryListen(0);
    if (port + 10000 > 65535 || taken.has(port)) {
      continue;
    }
    const bus = await tryListen(port + 10000).catch(() => undefined);
    if (bus !== undefined) {
      taken.add(port);
      return port;
    }
  }
}

interface TestCluster {
  ports: number[];
  url: string;
  stop(): Promise<void>;
}

async function startCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "vr-cluster-"));
  const taken = new Set<number>();
  const ports = [await freePort(taken), await freePort(taken), await freePort(taken)];
  const options = (port: number) => ({
    port: String(port),
    bind: "127.0.0.1",
    "cluster-enabled": "yes",
    "cluster-config-file": join(dir, `nodes-${port}.conf`),
    dir,
    save: "",
    appendonly: "no",
  });
  const servers: ChildProcess[] = ports.map((port) =>
    spawn(
      "redis-server",
      Object.entries(options(port)).flatMap(([k, v]) => [`--${k}`, v]),
      { stdio: "ignore" },
    ),
  );
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const s of servers) {
        if (s.exitCode === null && s.signalCode === null && s.pid !== undefined) {
          const exited = new Promise((r) => s.once("exit", r));
          s.kill("SIGKILL");
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    for (const port of ports) {
      await waitFor(
        async () => (await run("redis-cli", ["-p", String(port), "ping"])).stdout.trim() === "PONG",
        { what: `redis-server on ${port}` },
      );
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (const port of ports) {
      await waitFor(
        async () =>
          (await run("redis-cli", ["-p", String(port), "cluster", "info"])).stdout.includes(
            "cluster_state:ok",
          ),
        { what: `cluster_state:ok on ${port}` },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, url: ports.map((p) => `redis://127.0.0.1:${p}`).join(","), stop };
}

let cluster: TestCluster | undefined;
let db: TestDatabase;
let sim: Simulator;
let t: TestApp | undefined;
const prefix = randomPrefix();
const tag = prefix.slice(1, prefix.indexOf("}"));

describe.skipIf(!redisServerAvailable)("the daemon on a 3-master Redis Cluster", () => {
  beforeAll(async () => {
    cluster = await startCluster();
    db = await createTestDatabase();
    sim = await startSimulator({ detailLagMs: 0, detailQps: 100 });
    t = await startTestApp({
      databaseUrl: db.url,
      prefix,
      redisUrl: cluster.url,
      env: reconcileEnv(sim, { LOG_LEVEL: "warn" }),
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await sim?.close();
    await db?.drop();
    await cluster?.stop();
  });

  it("carries pushes through the queue to rows and reconciles them, every key in the tag's slot", async () => {
    const gen = createCallGenerator({ seed: 21, startTime: Date.now() - 30 * 60_000 });
    const calls = gen.generate(40, ["voice", "verification", "ivr", "robot"]);
    sim.control.loadCalls(calls);
    const receipts = calls.flatMap(receiptsForCall);
    await pushReceipts(t!.url, receipts);
    const ids = calls.map((c) => c.callId);
    await waitFor(() => callsSettled(db.pool, ids, ["reconciled"]), {
      timeoutMs: 30_000,
      what: "every call persisted and reconciled",
    });
    const { rows } = await db.pool.query<{ processed: number; total: number; events: number }>(
      `select (select count(*) from receipts where processed_at is not null)::int as processed,
              (select count(*) from receipts)::int as total,
              (select count(*) from call_events)::int as events`,
    );
    expect(rows[0]).toEqual({
      processed: receipts.length,
      total: receipts.length,
      events: receipts.filter((r) => r.messageType === "VoiceCallReport").length,
    });
    expect(sim.control.counters().detail.calls).toBeGreaterThanOrEqual(calls.length);

    // Every key of ours (BullMQ's and the limiter's, ProdId memory) lives on the one master that
    // owns the hash tag's slot, and nothing else of ours is anywhere else.
    const probe = new Redis(cluster!.ports[0]!, "127.0.0.1");
    try {
      const slot = (await probe.cluster("KEYSLOT", tag)) as number;
      const owners: string[] = [];
      for (const port of cluster!.ports) {
        const node = new Redis(port, "127.0.0.1");
        try {
          const keys = await node.keys("*");
          if (keys.length > 0) {
            owners.push(String(port));
          }
          for (const key of keys) {
            expect(key.startsWith(`${prefix}:`), key).toBe(true);
            expect(await node.cluster("KEYSLOT", key)).toBe(slot);
          }
        } finally {
          node.disconnect();
        }
      }
      expect(owners).toHaveLength(1);
      for (const key of [
        `${prefix}:receipts:meta`,
        `${prefix}:reconcile:meta`,
        `${prefix}:reconcile-limiter:window`,
        `${prefix}:reconcile-prodids`,
      ]) {
        expect(await clusterExists(key), key).toBe(true);
      }
    } finally {
      probe.disconnect();
    }
  });

  it("answers /readyz through the cluster, connects from one seed with REDIS_CLUSTER=on, reads durability per master", async () => {
    const res = await fetch(`${t!.url}/readyz`);
    expect(res.status).toBe(200);
    const one = createRedis(
      { redisUrl: `redis://127.0.0.1:${cluster!.ports[2]}`, redisCluster: true },
      "producer",
    );
    try {
      expect(one).toBeInstanceOf(Cluster);
      await waitFor(() => one.status === "ready", { what: "cluster client ready" });
      // It found the other masters from the one seed.
      expect((one as Cluster).nodes("master")).toHaveLength(3);
      // A key in another slot than ours: the client follows the cluster's routing.
      await one.set(`{vr-probe-${tag}}:k`, "v", "EX", 60);
      expect(await one.get(`{vr-probe-${tag}}:k`)).toBe("v");
      await one.del(`{vr-probe-${tag}}:k`);
      // Durable only when every master is: the servers here run without AOF…
      expect(await redisIsDurable(one)).toBe(false);
      const masters = (one as Cluster).nodes("master");
      for (const node of masters.slice(0, 2)) {
        await node.config("SET", "appendonly", "yes");
        await node.config("SET", "appendfsync", "always");
      }
      // …and two masters out of three are not enough.
      expect(await redisIsDurable(one)).toBe(false);
      await masters[2]!.config("SET", "appendonly", "yes");
      await masters[2]!.config("SET", "appendfsync", "always");
      expect(await redisIsDurable(one)).toBe(true);
    } finally {
      one.disconnect();
    }
  });

  it("refuses to start on a cluster with a prefix without a hash tag (exit 2, naming VMS_QUEUE_PREFIX)", async () => {
    const r = await runCli(
      ["run"],
      {
        DATABASE_URL: db.url,
        REDIS_URL: cluster!.url,
        VMS_QUEUE_PREFIX: "vr",
      },
      20_000,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("VMS_QUEUE_PREFIX");
  });

  // Last: it stops the cluster.
  it("answers a push 503 when the cluster is gone (producers fail fast on a cluster too)", async () => {
    await cluster!.stop();
    const res = await fetch(`${t!.url}/push/VoiceReport`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ call_id: "100000000001^100000000001", status_code: "200000" }]),
    });
    expect(res.status).toBe(503);
    expect((await fetch(`${t!.url}/readyz`)).status).toBe(503);
  });
});

async function clusterExists(key: string): Promise<boolean> {
  const c = new Cluster(cluster!.ports.map((port) => ({ host: "127.0.0.1", port })));
  try {
    return (await c.exists(key)) === 1;
  } finally {
    c.disconnect();
  }
}
