/**
 * Roles as separate processes: two ingesters and two workers sharing one Redis and one
 * PostgreSQL, and SIGTERM of an ingester in the middle of a push load.
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";

import { spawnDaemon, type DaemonProcess } from "../helpers/daemons.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
const prefix = randomPrefix();
const procs: DaemonProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const p of procs) {
    p.child.kill("SIGKILL");
  }
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

/** A daemon process of this role, once it is ready (its HTTP server or its workers started). */
async function start(
  role: "ingest" | "worker",
  env: Record<string, string> = {},
): Promise<DaemonProcess> {
  const p = await spawnDaemon(role, {
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    VMS_PUSH_PORT: "0",
    ...env,
  });
  procs.push(p);
  return p;
}

let seq = 0;
function body(n: number): string {
  return JSON.stringify(
    Array.from({ length: n }, () => {
      const i = seq++;
      return {
        call_id: `500000000000^${String(i).padStart(12, "0")}`,
        status_code: "200000",
        out_id: `roles-${i % 7}`,
        start_time: "2026-11-22 08:00:00",
        end_time: "2026-11-22 08:00:30",
        duration: "30",
      };
    }),
  );
}

async function push(url: string, payload: string): Promise<number> {
  const res = await fetch(`${url}/push/VoiceReport`, {
    method: "POST",
    body: payload,
    headers: { "content-type": "application/json" },
  });
  await res.arrayBuffer();
  return res.status;
}

async function count(where: string): Promise<number> {
  const { rows } = await db.pool.query(`select count(*)::int as n from receipts where ${where}`);
  return rows[0].n;
}

describe("roles in separate processes", () => {
  it("two ingesters accept, two workers apply, and ingesters apply nothing themselves", async () => {
    const ingesters = await Promise.all([start("ingest"), start("ingest")]);
    const urls = ingesters.map((p) => p.url);
    // Before any worker runs, receipts become durable but are not applied.
    expect(await push(urls[0]!, body(10))).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(await count("processed_at is null")).toBe(10);

    // One worker serves health, readiness and metrics on VMS_METRICS_PORT; the other no HTTP.
    const workers = await Promise.all([
      start("worker", { VMS_METRICS_PORT: "0" }),
      start("worker"),
    ]);
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => push(urls[i % 2]!, body(5))),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor(async () => (await count("processed_at is null")) === 0, {
      timeoutMs: 20_000,
      what: "all receipts applied",
    });
    expect(await count("true")).toBe(310);
    const { rows } = await db.pool.query("select count(*)::int as n from calls");
    expect(rows[0].n).toBe(310);

    const queue = new Queue("receipts", { connection: { url: inject("redisUrl") }, prefix });
    const completed = await queue.getJobs(["completed"], 0, 1000);
    await queue.close();
    const processedBy = new Set(completed.map((j) => j.processedBy));
    expect(processedBy.size).toBe(2);
    for (const name of processedBy) {
      expect(name).toMatch(/^persist@/);
    }

    const metricsUrl = /"url":"(http:\/\/[^"]+)"/.exec(workers[0]!.out())?.[1];
    expect(metricsUrl).toBeDefined();
    expect(workers[1]!.out()).not.toContain("http server listening");
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    const applied = [...metrics.matchAll(/^voice_receipts_persisted_total\{[^}]*\} (\d+)/gm)];
    expect(applied.reduce((n, m) => n + Number(m[1]), 0)).toBeGreaterThan(0);
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(200);
    // Only the operations routes: a worker accepts no pushes.
    expect(await push(metricsUrl!, body(1))).toBe(404);
  });

  it("SIGTERM to an ingester under load: every acknowledged receipt is durable, then it exits 0", async () => {
    const ingester = await start("ingest");
    const url = ingester.url!;
    const acknowledged: string[] = [];
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          const payload = body(20);
          try {
            if ((await push(url, payload)) === 200) {
              acknowledged.push(
                ...(JSON.parse(payload) as { call_id: string }[]).map((r) => r.call_id),
              );
            }
          } catch {
            return; // connection refused: the server is gone
          }
        }
      }),
    );
    await waitFor(() => acknowledged.length >= 200, { timeoutMs: 20_000, what: "some load" });
    ingester.child.kill("SIGTERM");
    const code = await Promise.race([
      ingester.exited.then((e) => e.code),
      new Promise((r) => setTimeout(() => r("timeout"), 12_000)),
    ]);
    if (code === "timeout") {
      console.log(ingester.out().slice(-3000));
    }
    expect(code).toBe(0);
    stop = true;
    await load;
    expect(ingester.out()).toContain('"clean":true');
    const { rows } = await db.pool.query<{ call_id: string }>(
      "select call_id from receipts where call_id = any($1)",
      [acknowledged],
    );
    expect(rows.length).toBe(acknowledged.length);
  });
});
