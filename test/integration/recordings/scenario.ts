/**
 * The recording store scenario, run against each store (filesystem, S3 protocol): real daemon
 * in-process, real PostgreSQL and Redis, the simulator's OSS over HTTP. Receipts arrive by HTTP
 * push, twice, one recording also as a second row with a freshly signed URL; downloads fail,
 * are cut mid-body, expire, or point at hosts the daemon must not contact.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";
import type { Readable } from "node:stream";

import { afterAll, beforeAll, expect, it } from "vitest";

import { startSimulator, type Simulator, type SimCall } from "../../../src/simulator/index.js";
import { voiceRecordReport } from "../../../src/simulator/receipts.js";
import { wavStream } from "../../../src/simulator/recordings.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../../helpers/redis.js";
import { waitFor } from "../../helpers/waitFor.js";

export interface StoreUnderTest {
  /** VMS_RECORDINGS_* variables selecting the store. */
  env: Record<string, string>;
  /** Keys of every object in the store (temporary files excluded). */
  list(): Promise<string[]>;
  read(key: string): Promise<Readable>;
  close(): Promise<void>;
}

const TOKEN = "recordings-test-token";
const DATA_BYTES = 48_000; // 3 s of audio

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

const nameOf = (callId: string) => `${callId.replace(/\^/g, "_")}.wav`;

export function recordingStoreScenario(open: () => Promise<StoreUnderTest>): void {
  let db: TestDatabase;
  let sim: Simulator;
  let t: TestApp;
  let store: StoreUnderTest;
  let calls: SimCall[];
  let trap: Server;
  let trapConnections = 0;
  const prefix = randomPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator();
    sim.control.setRecordingBytes(DATA_BYTES);
    store = await open();
    // Listens on localhost, which is NOT on the allow-list: it must never see a connection.
    trap = createServer((s) => {
      trapConnections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, "127.0.0.1", r));
    t = await startTestApp({
      databaseUrl: db.url,
      prefix,
      env: {
        VMS_PUSH_TOKEN: TOKEN,
        VMS_RECORDINGS_HOSTS: "127.0.0.1,*.aliyuncs.com",
        VMS_RECORDINGS_CONCURRENCY: "3",
        ...store.env,
      },
      recordings: { pollMs: 100, backoffMs: 200, leaseMs: 3000 },
    });
    calls = sim.control.generateCalls(40, ["robot"]).filter((c) => c.recordFile !== undefined);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await sim?.close();
    await store?.close();
    await new Promise((r) => trap?.close(r));
    await db?.drop();
    await deleteKeysWithPrefix(prefix);
  });

  const push = async (bodies: unknown[]) => {
    const res = await fetch(`${t.url}/push/VoiceRecordReport?token=${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(bodies),
    });
    expect(res.status).toBe(200);
  };
  const rows = async (where = "true") =>
    (
      await db.pool.query<{
        call_id: string;
        record_file: string;
        fetch_status: string;
        storage_key: string | null;
        sha256: string | null;
        bytes: string | null;
        content_type: string | null;
        fetch_attempts: number;
        fetch_error: string | null;
      }>(`select * from recordings where ${where} order by id`)
    ).rows;

  it("stores every recording once, with the right sha256, across redeliveries and faults", async () => {
    expect(calls.length).toBeGreaterThanOrEqual(4);
    // Downloads fail first (two 503s), then one body is cut half way: retried, never stored partial.
    sim.control.setRecordingFaults({
      failNext: { status: 503, count: 2 },
      cutAfter: { bytes: DATA_BYTES / 2, count: 1 },
    });
    const bodies = calls.map((c) => voiceRecordReport(c)?.body);
    await push(bodies);
    await push(bodies); // an at-least-once redelivery
    // A replayed copy with a freshly signed URL: a second row for the same recording.
    const first = calls[0] as SimCall;
    const fresh = sim.control.recordingUrl(first.callId, sim.clock.now() + 6 * 86_400_000);
    await push([{ ...voiceRecordReport(first)?.body, record_file: fresh }]);
    await db.pool.query(
      `insert into recordings (call_id, record_file, body) values ($1, $2, '{}')
       on conflict do nothing`,
      [first.callId, fresh.replace("Expires=", "X=1&Expires=")],
    );
    await waitFor(
      async () => {
        const all = await rows();
        return all.length >= calls.length && all.every((r) => r.fetch_status === "stored");
      },
      { timeoutMs: 60_000, what: "every recording stored" },
    ).catch(async (err: unknown) => {
      console.log(JSON.stringify(await rows(), null, 1).slice(0, 3000));
      console.log(
        t
          .logs()
          .split("\n")
          .filter((l) => /recording/.test(l))
          .slice(-30)
          .join("\n"),
      );
      throw err;
    });
    const expected = await sha256Of(wavStream(nameOf(first.callId), DATA_BYTES));
    const stored = await rows();
    const byCall = new Map<string, Set<string>>();
    for (const r of stored) {
      const name = nameOf(r.call_id);
      expect(r.sha256).toBe(await sha256Of(wavStream(name, DATA_BYTES)));
      expect(Number(r.bytes)).toBe(44 + DATA_BYTES);
      expect(r.content_type).toBe("audio/wav");
      byCall.set(r.call_id, (byCall.get(r.call_id) ?? new Set()).add(r.storage_key ?? ""));
    }
    // One object per recording, whatever the number of rows pointing at it.
    expect([...byCall.values()].every((keys) => keys.size === 1)).toBe(true);
    const keys = (await store.list()).sort();
    expect(keys).toEqual([...new Set(stored.map((r) => r.storage_key as string))].sort());
    expect(keys).toHaveLength(calls.length);
    // What the store holds is what was served.
    const firstKey = stored.find((r) => r.call_id === first.callId)?.storage_key as string;
    expect(firstKey).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d+_\d+-[0-9a-f]{10}\.wav$/);
    expect(await sha256Of(await store.read(firstKey))).toBe(expected);
    for (const k of keys) {
      const row = stored.find((r) => r.storage_key === k);
      expect(await sha256Of(await store.read(k))).toBe(row?.sha256);
    }
    // One recording.stored event per recording, in the outbox, pointing at our copy.
    const events = await db.pool.query<{ call_id: string; location: string; sha256: string }>(
      `select call_id, payload->'data'->'recording'->>'location' as location,
              payload->'data'->'recording'->>'sha256' as sha256
         from events where type = 'recording.stored'`,
    );
    expect(events.rows).toHaveLength(calls.length);
    for (const e of events.rows) {
      const row = stored.find((r) => r.call_id === e.call_id);
      expect(e.location).toBe(row?.storage_key);
      expect(e.sha256).toBe(row?.sha256);
    }
    // The faults were met and retried.
    expect(stored.some((r) => r.fetch_attempts > 1)).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/voice_receipts_recordings_failures_total\{reason="http_5xx"\} 2/);
    // The cut body fails as a lost connection (or as too few bytes, if the socket ended cleanly).
    expect(metrics).toMatch(
      /voice_receipts_recordings_failures_total\{reason="(network|truncated)"\} 1/,
    );
    expect(metrics).toMatch(
      new RegExp(`voice_receipts_recordings_fetched_total ${calls.length}\\b`),
    );
  }, 90_000);

  it("ends a link that already expired as expired, after one attempt", async () => {
    sim.control.setRecordingFaults({});
    const [call] = sim.control.generateCalls(30, ["robot"]).filter((c) => c.recordFile);
    const url = sim.control.recordingUrl(call?.callId as string, sim.clock.now() - 3_600_000);
    await push([{ ...voiceRecordReport(call as SimCall)?.body, record_file: url }]);
    const [row] = await waitFor(
      async () => {
        const r = await rows(`call_id = '${call?.callId}'`);
        return r[0] && r[0].fetch_status !== "pending" ? r : undefined;
      },
      { timeoutMs: 30_000, what: "the expired recording settled" },
    );
    expect(row?.fetch_status).toBe("expired");
    expect(row?.fetch_error).toMatch(/403/);
    expect(row?.fetch_attempts).toBe(1);
    expect(row?.storage_key).toBeNull();
    const expired = await db.pool.query<{ reason: string }>(
      `select payload->'data'->'recording'->>'reason' as reason from events
        where type = 'recording.expired' and call_id = $1`,
      [call?.callId],
    );
    expect(expired.rows).toHaveLength(1);
    expect(expired.rows[0]?.reason).toMatch(/403/);
  }, 60_000);

  it("refuses hosts off the allow-list without connecting to them", async () => {
    const port = (trap.address() as { port: number }).port;
    const hostile = [
      `http://localhost:${port}/record/a.wav?Expires=9999999999`,
      `http://169.254.169.254/latest/meta-data/x.wav`,
      `http://internal.example.com:${port}/b.wav`,
      `file:///etc/passwd`,
    ];
    await push(
      hostile.map((u, i) => ({
        call_id: `99900000000${i}^88800000000${i}`,
        record_file: u,
        start_time: "2026-12-01 10:00:00",
        end_time: "2026-12-01 10:01:00",
        duration: "60",
        status_code: "200000",
      })),
    );
    const settled = await waitFor(
      async () => {
        const r = await rows("call_id like '999%'");
        return r.length === hostile.length && r.every((x) => x.fetch_status !== "pending")
          ? r
          : undefined;
      },
      { timeoutMs: 30_000, what: "hostile recordings settled" },
    );
    for (const r of settled) {
      expect(r.fetch_status).toBe("failed");
      expect(r.fetch_error).toMatch(/not in VMS_RECORDINGS_HOSTS|not allowed|not a URL/);
      expect(r.fetch_attempts).toBe(1);
    }
    expect(trapConnections).toBe(0);
  }, 60_000);
}
