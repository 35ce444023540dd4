/**
 * "Redis unreachable" is the same fault at start as in the middle of a run: a daemon started
 * while its Redis is down answers pushes 503 within a second (the receipt already durable),
 * reports redis in /readyz, logs the outage once rather than every few seconds, stops cleanly,
 * and resumes by itself once Redis comes up; then the same again when Redis dies mid-run.
 * The Redis is a redis-server of this file's own, so it can be absent and killed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";
import { startRedisServer, type RedisServer } from "../reliability/redisServer.js";
import { Redis } from "ioredis";

let db: TestDatabase;
let redis: RedisServer;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  // The port is reserved, but nothing listens on it yet.
  redis = await startRedisServer({ stopped: true });
});
afterAll(async () => {
  await redis?.stop();
  await db?.drop();
});

function report(n: number) {
  return {
    call_id: `310000000000^41000000${String(n).padStart(4, "0")}`,
    status_code: "200000",
    out_id: `start-outage-${n}`,
    start_time: "2026-11-21 09:00:00",
    end_time: "2026-11-21 09:00:10",
    duration: "10",
  };
}

async function push(t: TestApp, n: number) {
  const started = Date.now();
  const res = await fetch(`${t.url}/push/VoiceReport`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([report(n)]),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, ms: Date.now() - started };
}

async function callExists(n: number): Promise<boolean> {
  const { rows } = await db.pool.query("select 1 from calls where call_id = $1", [
    report(n).call_id,
  ]);
  return rows.length === 1;
}

async function receiptDurable(n: number): Promise<boolean> {
  const { rows } = await db.pool.query("select 1 from receipts where call_id = $1", [
    report(n).call_id,
  ]);
  return rows.length === 1;
}

const logLines = (t: TestApp) =>
  t
    .logs()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; level: number; err?: { stack?: string } });

describe("Redis down when the daemon starts", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      databaseUrl: db.url,
      redisUrl: redis.url,
      prefix,
      sweep: { intervalMs: 300, graceMs: 0 },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("answers a push 503 within a second, with the receipt durable, and /readyz names redis", async () => {
    const r = await push(t, 1);
    expect(r.status).toBe(503);
    expect(r.ms).toBeLessThan(1000);
    expect(await receiptDurable(1)).toBe(true);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: { redis: string; postgres: string } };
    expect(body.checks.postgres).toBe("ok");
    expect(body.checks.redis).not.toBe("ok");
  });

  it("logs the outage once, with its cause, not an empty-stack error every few seconds", async () => {
    // Long enough for several reconnect attempts (their backoff reaches 5 s).
    await new Promise((r) => setTimeout(r, 6000));
    const lines = logLines(t);
    const errors = lines.filter((l) => l.level >= 50);
    for (const e of errors) {
      expect(e.err?.stack ?? "", `${e.msg} has a stack`).toMatch(/\n\s+at /);
    }
    const down = lines.filter((l) => l.msg === "redis unreachable");
    expect(down.length).toBe(1);
    expect(errors.filter((l) => l.msg === "persist worker error").length).toBeLessThanOrEqual(1);
  });

  it("resumes by itself once Redis comes up: the durable receipt is applied, pushes succeed", async () => {
    await redis.restart();
    await waitFor(() => callExists(1), { timeoutMs: 20_000, what: "the swept receipt applied" });
    expect((await push(t, 2)).status).toBe(200);
    await waitFor(() => callExists(2), { timeoutMs: 15_000, what: "call 2 persisted" });
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    expect(logLines(t).some((l) => l.msg === "redis reachable again")).toBe(true);
  });

  it("behaves the same when Redis is lost mid-run", async () => {
    await redis.kill();
    const r = await push(t, 3);
    expect(r.status).toBe(503);
    expect(r.ms).toBeLessThan(1000);
    expect(await receiptDurable(3)).toBe(true);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);
    await redis.restart();
    await waitFor(() => callExists(3), { timeoutMs: 20_000, what: "the swept receipt applied" });
    expect((await push(t, 4)).status).toBe(200);
  });
});

describe("stopping while Redis has never been reachable", () => {
  it("stops cleanly", async () => {
    const other = await startRedisServer({ stopped: true });
    try {
      const t = await startTestApp({ databaseUrl: db.url, redisUrl: other.url, prefix });
      expect((await push(t, 5)).status).toBe(503);
      expect(await t.app.stop(), t.logs()).toBe(true);
      const lines = logLines(t);
      expect(lines.filter((l) => l.msg === "shutdown step failed")).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe("a prefix of another database, found only once Redis appears", () => {
  it("queues and consumes nothing under it, and says why", async () => {
    const other = await startRedisServer();
    const ownPrefix = randomPrefix();
    try {
      // Bound to another database, persisted in the AOF, then Redis goes away.
      const r = new Redis(other.url);
      await r.set(
        `${ownPrefix}:database`,
        JSON.stringify({ systemIdentifier: "1", database: "elsewhere", oid: "1" }),
      );
      r.disconnect();
      await other.kill();
      const t = await startTestApp({ databaseUrl: db.url, redisUrl: other.url, prefix: ownPrefix });
      try {
        await other.restart();
        await waitFor(
          () =>
            logLines(t).some((l) => l.msg.startsWith("queue prefix belongs to another database")),
          { timeoutMs: 15_000, what: "the refusal logged" },
        );
        expect((await push(t, 6)).status).toBe(503);
        const keys = new Redis(other.url);
        try {
          expect(await keys.keys(`${ownPrefix}:receipts:*`)).toEqual([]);
        } finally {
          keys.disconnect();
        }
      } finally {
        await t.stop();
      }
    } finally {
      await other.stop();
    }
  });
});
