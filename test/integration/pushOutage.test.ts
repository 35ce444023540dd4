/**
 * Pushes while PostgreSQL or Redis is unreachable: 503 within a second (Alibaba retries), no
 * acknowledgement without durability, and the same push succeeds once the service is back.
 * The outage is a TCP proxy we cut, so the shared servers are never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";

import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcpProxy.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let t: TestApp;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  const pgUrl = new URL(db.url);
  const redisUrl = new URL(inject("redisUrl"));
  pgProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  t = await startTestApp({
    databaseUrl: pgProxy.url(db.url),
    redisUrl: redisProxy.url(inject("redisUrl")),
    prefix,
    // The sweeper is driven by hand in this file.
    sweep: { intervalMs: 3_600_000, graceMs: 0 },
  });
});
afterAll(async () => {
  await t?.stop();
  await pgProxy?.close();
  await redisProxy?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

function report(n: number) {
  return {
    call_id: `300000000000^40000000${String(n).padStart(4, "0")}`,
    status_code: "200000",
    out_id: `outage-${n}`,
    start_time: "2026-11-21 09:00:00",
    end_time: "2026-11-21 09:00:10",
    duration: "10",
  };
}

async function push(body: unknown) {
  const started = Date.now();
  const res = await fetch(`${t.url}/push/VoiceReport`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, ms: Date.now() - started };
}

async function callExists(n: number): Promise<boolean> {
  const { rows } = await db.pool.query("select 1 from calls where call_id = $1", [
    report(n).call_id,
  ]);
  return rows.length === 1;
}

describe("push during an outage", () => {
  it("accepts normally before the outage", async () => {
    expect((await push([report(1)])).status).toBe(200);
    await waitFor(() => callExists(1), { what: "call 1 persisted" });
  });

  it("answers 503 within a second while Redis is down, and 200 for the same push once it is back", async () => {
    await redisProxy.cut();
    const r = await push([report(2)]);
    expect(r.status).toBe(503);
    expect(r.ms).toBeLessThan(1000);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);

    await redisProxy.restore();
    await waitFor(async () => (await push([report(2)])).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: "the push to succeed after Redis is back",
    });
    await waitFor(() => callExists(2), { timeoutMs: 15_000, what: "call 2 persisted" });
    await waitFor(async () => (await fetch(`${t.url}/readyz`)).status === 200, {
      timeoutMs: 10_000,
      what: "ready again once Redis is back",
    });
    const { rows } = await db.pool.query(
      "select count(*)::int as n from receipts where call_id = $1",
      [report(2).call_id],
    );
    expect(rows[0].n).toBe(1);
  });

  it("answers 503 within a second while PostgreSQL is down, and 200 for the same push once it is back", async () => {
    await pgProxy.cut();
    const r = await push([report(3)]);
    expect(r.status).toBe(503);
    expect(r.ms).toBeLessThan(1000);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { postgres: string } }).checks.postgres).not.toBe(
      "ok",
    );

    await pgProxy.restore();
    await waitFor(async () => (await push([report(3)])).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: "the push to succeed after PostgreSQL is back",
    });
    await waitFor(() => callExists(3), { timeoutMs: 15_000, what: "call 3 persisted" });
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });

  it("never loses a receipt made durable while Redis was down: the sweeper queues it", async () => {
    await redisProxy.cut();
    expect((await push([report(4)])).status).toBe(503);
    // Durable in PostgreSQL, unprocessed, and nobody pushes it again.
    const { rows } = await db.pool.query("select processed_at from receipts where call_id = $1", [
      report(4).call_id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].processed_at).toBeNull();
    await redisProxy.restore();
    await waitFor(async () => ((await t.app.sweeper?.sweepOnce()) ?? 0) > 0, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: "the sweeper to re-enqueue",
    });
    await waitFor(() => callExists(4), { timeoutMs: 15_000, what: "call 4 persisted" });
  });
});
