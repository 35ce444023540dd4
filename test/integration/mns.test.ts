/**
 * MNS consumption mode against the built-in simulator, through the real @alicloud/mns client
 * with STS credentials from the real token API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import type { Simulator } from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
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
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await sim?.close();
  await db.pool.query("truncate receipts, calls, call_events, recordings, rejected_receipts");
});
afterAll(async () => {
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

async function receiptKeys(): Promise<string[]> {
  const { rows } = await db.pool.query<{ dedup_key: string }>(
    "select dedup_key from receipts where source = 'mns'",
  );
  return rows.map((r) => r.dedup_key);
}

async function allStored(expected: Set<string>): Promise<boolean> {
  const keys = await receiptKeys();
  const { rows } = await db.pool.query(
    "select count(*)::int as n from receipts where processed_at is null",
  );
  return keys.length === expected.size && rows[0].n === 0;
}

describe("MNS consumption", () => {
  it("moves receipts of all three types from the queues to rows and deletes them", async () => {
    sim = await startMnsSimulator();
    const calls = sim.control.generateCalls(30);
    const receipts = sim.control.deliverCallsToMns(calls);
    const expected = distinctKeys(receipts);
    expect(new Set(receipts.map((r) => r.messageType))).toEqual(new Set(Object.keys(MNS_QUEUES)));

    t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
    await waitFor(() => allStored(expected), { timeoutMs: 20_000, what: "every receipt stored" });
    expect(new Set(await receiptKeys())).toEqual(expected);
    await waitFor(() => queuesEmpty(sim), { what: "every message deleted" });
    const { rows } = await db.pool.query("select count(*)::int as n from calls");
    expect(rows[0].n).toBe(new Set(calls.map((c) => c.callId)).size);
    const c = sim.control.counters();
    expect(c.tokens.issued).toBeGreaterThanOrEqual(3); // one STS token per message type
    expect(c.mns.deletes).toBeGreaterThan(0);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /voice_receipts_mns_messages_total\{queue="Alicom-Queue-1234567890123456-VoiceReport"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /voice_receipts_mns_token_refreshes_total\{type="VoiceCallReport"\} [1-9]/,
    );
  });

  it("finishes deleting the batches it stored before a clean stop", async () => {
    sim = await startMnsSimulator();
    const receipts = sim.control.deliverCallsToMns(sim.control.generateCalls(10));
    const expected = distinctKeys(receipts);
    // Slow MNS answers keep the delete of the last batch in flight when the stop comes.
    sim.control.setLatency("mns", 400);
    t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
    await waitFor(() => allStored(expected), { timeoutMs: 20_000, what: "every receipt stored" });
    await t.stop();
    t = undefined;
    expect(sim.control.counters().mns.deleteFailures).toBe(0);
    expect(queuesEmpty(sim)).toBe(true);
  });

  it("picks up a message that arrives during a long poll without waiting for the poll to end", async () => {
    sim = await startMnsSimulator();
    t = await startTestApp({
      databaseUrl: db.url,
      prefix,
      env: mnsEnv(sim, { VMS_MNS_WAIT_SECONDS: "20" }),
    });
    // Let the pollers settle into their 20 s long polls.
    await waitFor(() => sim.control.counters().mns.receiveRequests >= 3, {
      what: "long polls in flight",
    });
    await new Promise((r) => setTimeout(r, 300));
    const pollsBefore = sim.control.counters().mns.receiveRequests;
    const receipts = sim.control.deliverCallsToMns(sim.control.generateCalls(1, ["voice"]));
    const started = Date.now();
    await waitFor(() => allStored(distinctKeys(receipts)), {
      timeoutMs: 15_000,
      what: "receipt stored",
    });
    // Well inside the 20 s wait: the poll in flight returned the message.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sim.control.counters().mns.emptyReceives).toBe(0);
    expect(sim.control.counters().mns.receiveRequests - pollsBefore).toBeLessThanOrEqual(6);
  });

  it("refreshes an STS token that expires mid-run without losing or duplicating anything", async () => {
    sim = await startMnsSimulator({ tokenLifetimeSeconds: 3600 });
    t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
    const first = sim.control.deliverCallsToMns(sim.control.generateCalls(5));
    await waitFor(() => allStored(distinctKeys(first)), {
      timeoutMs: 15_000,
      what: "first batch stored",
    });
    const issued = sim.control.counters().tokens.issued;
    // Two hours pass for the simulated account: every token the daemon holds is now expired.
    sim.control.advanceClock(2 * 3600 * 1000);
    const second = sim.control.deliverCallsToMns(sim.control.generateCalls(5));
    const all = distinctKeys([...first, ...second]);
    await waitFor(() => allStored(all), { timeoutMs: 20_000, what: "second batch stored" });
    expect(sim.control.counters().tokens.issued).toBeGreaterThan(issued);
    expect(sim.control.counters().mns.authFailures).toBeGreaterThan(0);
    expect((await receiptKeys()).length).toBe(all.size);
    await waitFor(() => queuesEmpty(sim), { what: "every message deleted" });
  });

  it("survives 5xx bursts and dropped connections from MNS", async () => {
    sim = await startMnsSimulator();
    sim.control.injectFault("mns", { kind: "error", status: 500, code: "InternalError" }, 4);
    sim.control.injectFault("mns", { kind: "drop" }, 3);
    sim.control.injectFault("mns", { kind: "garbage", status: 502 }, 2);
    const receipts = sim.control.deliverCallsToMns(sim.control.generateCalls(10));
    t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
    await waitFor(() => allStored(distinctKeys(receipts)), {
      timeoutMs: 30_000,
      what: "every receipt stored",
    });
    await waitFor(() => queuesEmpty(sim), { timeoutMs: 15_000, what: "every message deleted" });
    expect(sim.control.counters().mns.faults).toBe(9);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /voice_receipts_mns_errors_total\{queue="[^"]+",code="InternalError"\} [1-9]/,
    );
  });

  it("quarantines a message that is not Base64 JSON, then deletes it", async () => {
    sim = await startMnsSimulator();
    sim.control.enqueue(MNS_QUEUES.VoiceReport, "this is not base64 json!");
    t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
    await waitFor(
      async () => (await db.pool.query("select 1 from rejected_receipts")).rows.length === 1,
      {
        timeoutMs: 15_000,
        what: "the poison message quarantined",
      },
    );
    const { rows } = await db.pool.query(
      "select source, message_type, raw, reason, location from rejected_receipts",
    );
    expect(rows[0]).toMatchObject({
      source: "mns",
      message_type: "VoiceReport",
      raw: "this is not base64 json!",
      location: MNS_QUEUES.VoiceReport,
    });
    await waitFor(() => queuesEmpty(sim), { what: "the poison message deleted" });
  });

  it("keeps messages in the queue while PostgreSQL is unusable, and stores them once it is back", async () => {
    sim = await startMnsSimulator({ visibilityTimeoutSeconds: 1 });
    await db.pool.query("alter table receipts rename to receipts_away");
    try {
      t = await startTestApp({ databaseUrl: db.url, prefix, env: mnsEnv(sim) });
      const receipts = sim.control.deliverCallsToMns(sim.control.generateCalls(3, ["voice"]));
      await waitFor(() => sim.control.counters().mns.redeliveries > 0, {
        timeoutMs: 15_000,
        what: "a redelivery",
      });
      expect(sim.control.counters().mns.deletes).toBe(0);
      await db.pool.query("alter table receipts_away rename to receipts");
      await waitFor(() => allStored(distinctKeys(receipts)), {
        timeoutMs: 20_000,
        what: "every receipt stored",
      });
      await waitFor(() => queuesEmpty(sim), { what: "every message deleted" });
    } finally {
      await db.pool.query("alter table if exists receipts_away rename to receipts");
    }
  });
});
