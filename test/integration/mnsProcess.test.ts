/**
 * The MNS consumer as a real process: killed between the durable write and the delete, and
 * stopped with SIGTERM in the middle of a backlog.
 */
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inject } from "vitest";

import { decodeMnsBody } from "../../src/domain/envelope.js";
import { normalizeReceipt } from "../../src/domain/receipt.js";
import type { Simulator } from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { processEnv, spawnCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  MNS_QUEUES,
  distinctKeys,
  mnsEnv,
  queuesEmpty,
  startMnsSimulator,
} from "../helpers/mnsSetup.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let sim: Simulator;
let t: TestApp | undefined;
// A prefix per test: a job left active by the SIGKILLed process of one test must not be
// counted by the next.
const prefixes: string[] = [];
let prefix = "";

beforeAll(async () => {
  db = await createTestDatabase();
});
beforeEach(() => {
  prefix = randomPrefix();
  prefixes.push(prefix);
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await sim?.close();
  await db.pool.query("truncate receipts, calls, call_events, recordings, rejected_receipts");
});
afterAll(async () => {
  await db?.drop();
  for (const p of prefixes) {
    await deleteKeysWithPrefix(p);
  }
});

function daemon(extra: Record<string, string> = {}) {
  const child = spawnCli(
    ["run"],
    processEnv(db.url, prefix, {
      VMS_PUSH_HOST: "127.0.0.1",
      VMS_PUSH_PORT: "0",
      ...mnsEnv(sim, extra),
    }),
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function storedKeys(): Promise<Set<string>> {
  const { rows } = await db.pool.query<{ dedup_key: string }>("select dedup_key from receipts");
  return new Set(rows.map((r) => r.dedup_key));
}

/** Dedup keys of the messages still in the simulator's queues. */
function keysStillQueued(): Set<string> {
  const keys = new Set<string>();
  for (const [type, queue] of Object.entries(MNS_QUEUES)) {
    for (const m of sim.control.messages(queue)) {
      const decoded = decodeMnsBody(m.body);
      if (decoded.kind === "items") {
        for (const item of decoded.items) {
          const n = normalizeReceipt(type, item);
          if (n.ok) {
            keys.add(n.receipt.dedupKey);
          }
        }
      }
    }
  }
  return keys;
}

describe("the MNS consumer process", () => {
  it("killed between the durable write and the delete: the messages are redelivered and stored once", async () => {
    sim = await startMnsSimulator({ visibilityTimeoutSeconds: 2 });
    // Every MNS request takes a second: the delete is still on its way when the row appears.
    sim.control.setLatency("mns", 1000);
    const receipts = sim.control.deliverCallsToMns(sim.control.generateCalls(4, ["voice", "ivr"]));
    const expected = distinctKeys(receipts);

    const d = daemon();
    await waitFor(async () => (await storedKeys()).size > 0, {
      timeoutMs: 20_000,
      what: "a durable receipt",
    });
    d.child.kill("SIGKILL");
    await d.exited;
    const deletedBeforeKill = sim.control.counters().mns.deletes;
    expect(queuesEmpty(sim)).toBe(false);

    sim.control.setLatency("mns", 0);
    t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
    await waitFor(async () => (await storedKeys()).size === expected.size, {
      timeoutMs: 20_000,
      what: "every receipt stored",
    });
    await waitFor(() => queuesEmpty(sim), { timeoutMs: 15_000, what: "every message deleted" });
    expect(sim.control.counters().mns.redeliveries).toBeGreaterThan(0);
    expect(sim.control.counters().mns.deletes).toBeGreaterThan(deletedBeforeKill);
    // Redelivered messages collapsed on their dedup keys: one row each.
    expect(await storedKeys()).toEqual(expected);
    const { rows } = await db.pool.query("select count(*)::int as n from receipts");
    expect(rows[0].n).toBe(expected.size);
  });

  it("on SIGTERM stops polling, finishes the batches in hand, exits 0, and leaves nothing unaccounted for", async () => {
    sim = await startMnsSimulator({ visibilityTimeoutSeconds: 30 });
    sim.control.setLatency("mns", 150);
    const receipts = sim.control.deliverCallsToMns(sim.control.generateCalls(60));
    const expected = distinctKeys(receipts);

    const d = daemon({ VMS_MNS_CONCURRENCY: "2" });
    await waitFor(async () => (await storedKeys()).size >= 10, {
      timeoutMs: 20_000,
      what: "some receipts stored",
    });
    const sent = Date.now();
    d.child.kill("SIGTERM");
    const code = await d.exited;
    expect(code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(d.output()).toContain('"clean":true');

    // Every receipt is either durable in PostgreSQL or still waiting in MNS (never deleted unstored).
    const stored = await storedKeys();
    const queued = keysStillQueued();
    for (const key of expected) {
      expect(stored.has(key) || queued.has(key), `receipt ${key} lost`).toBe(true);
    }
    // Everything stored was also applied: no stalled or half-done job left behind.
    const { rows } = await db.pool.query(
      "select count(*)::int as n from receipts where processed_at is null",
    );
    const queue = new Queue("receipts", { connection: { url: inject("redisUrl") }, prefix });
    const counts = await queue.getJobCounts("active", "waiting", "delayed", "failed");
    await queue.close();
    // No job left half-done by the stop (a stalled job would only be retried after its lock expires).
    expect(counts.active).toBe(0);
    expect(counts.failed).toBe(0);
    // Receipts stored but not yet applied still have a job waiting for the next start.
    expect(rows[0].n === 0 || (counts.waiting ?? 0) + (counts.delayed ?? 0) > 0).toBe(true);
  });
});
