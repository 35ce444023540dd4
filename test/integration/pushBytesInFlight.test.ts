/**
 * Back-pressure on push bytes in flight (src/sources/http/bytesInFlight.ts), over real HTTP with
 * real PostgreSQL and Redis: a flood of large concurrent bodies is held to the budget (the rest
 * wait unread in their sockets), and every push still ends in 200 with its receipts stored once.
 */
import net from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

const BUDGET = 128 * 1024;
const BODY_LIMIT = 512 * 1024;
let db: TestDatabase;
let t: TestApp;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: {
      VMS_PUSH_MAX_BYTES_IN_FLIGHT: String(BUDGET),
      VMS_PUSH_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

/** `count` VoiceReports of distinct calls, numbered from `from`, padded to ~500 bytes each. */
function body(from: number, count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      call_id: `700000000000^${String(from + i).padStart(12, "0")}`,
      status_code: "200000",
      status_msg: "用户听完语音".repeat(20),
      out_id: `flood-${from + i}`,
      start_time: "2026-11-20 10:00:10",
      end_time: "2026-11-20 10:00:40",
      duration: "30",
    })),
  );
}

async function push(text: string): Promise<number> {
  const res = await fetch(`${t.url}/push/VoiceReport`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
  });
  await res.arrayBuffer();
  return res.status;
}

async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return Number(m?.[1]);
}

async function receipts(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>("select count(*)::int as n from receipts");
  return rows[0]?.n ?? 0;
}

describe("push bytes in flight", () => {
  it("holds a flood of large bodies to the budget and still answers every one 200", async () => {
    const bodies = Array.from({ length: 24 }, (_, b) => body(b * 100, 100));
    const sizes = bodies.map((b) => Buffer.byteLength(b));
    expect(Math.min(...sizes)).toBeGreaterThan(BUDGET / 4); // a few at most fit at once
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(BUDGET * 8);

    const statuses = await Promise.all(bodies.map(push));

    expect(statuses).toEqual(bodies.map(() => 200));
    expect(await receipts()).toBe(2400);
    const peak = await gauge("voice_receipts_push_bytes_in_flight_peak");
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(BUDGET);
    expect(await gauge("voice_receipts_push_bytes_in_flight")).toBe(0);
  });

  it("admits a body larger than the whole budget alone: slowed, never refused", async () => {
    const big = body(10_000, 400);
    expect(Buffer.byteLength(big)).toBeGreaterThan(BUDGET);
    const statuses = await Promise.all([push(big), push(body(20_000, 50)), push(body(30_000, 50))]);
    expect(statuses).toEqual([200, 200, 200]);
    expect(await receipts()).toBe(2400 + 500);
    expect(await gauge("voice_receipts_push_bytes_in_flight")).toBe(0);
  });

  it("gives the room back when a client leaves, whether admitted or still waiting", async () => {
    const { port } = new URL(t.url);
    /** A push that declares `length` bytes and sends only its headers and a few of them. */
    const stalled = (length: number) =>
      new Promise<net.Socket>((resolve) => {
        const socket = net.connect(Number(port), "127.0.0.1", () => {
          socket.write(
            `POST /push/VoiceReport HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${length}\r\n\r\n[`,
          );
          resolve(socket);
        });
        socket.on("error", () => {});
      });
    const holder = await stalled(BUDGET); // admitted: the whole budget, its body never ends
    await waitFor(async () => (await gauge("voice_receipts_push_bytes_in_flight")) === BUDGET, {
      what: "the stalled push to hold the budget",
    });
    const waiter = await stalled(1000); // waits for room, unread
    const pending = push(body(40_000, 10)); // waits behind it
    waiter.destroy();
    holder.destroy();

    expect(await pending).toBe(200);
    await waitFor(async () => (await gauge("voice_receipts_push_bytes_in_flight")) === 0, {
      what: "every byte to be given back",
    });
    expect(await push(body(50_000, 10))).toBe(200);
  });
});
