/**
 * A large recording (200 MB, served slowly by the simulator) downloaded by a real daemon process
 * that is SIGKILLed half way: nothing is stored under the recording's key, and the next process
 * stores it intact once the dead one's lease lapses. The daemon's RSS is sampled throughout: the
 * download streams, so memory stays flat whatever the recording's size.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, expect, inject, it } from "vitest";

import { startSimulator, type Simulator } from "../../../src/simulator/index.js";
import { voiceRecordReport } from "../../../src/simulator/receipts.js";
import { wavStream } from "../../../src/simulator/recordings.js";
import { killHard, spawnDaemon, type DaemonProcess } from "../../helpers/daemons.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../../helpers/redis.js";
import { waitFor } from "../../helpers/waitFor.js";
import { sha256Of } from "./scenario.js";

const MB = 1024 * 1024;
const DATA_BYTES = 200 * MB;
const TOKEN = "recordings-restart-token";

let db: TestDatabase;
let sim: Simulator;
let dir: string;
const prefix = randomPrefix();
const procs: DaemonProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator();
  sim.control.setRecordingBytes(DATA_BYTES);
  sim.control.setRecordingFaults({ bytesPerSecond: 16 * MB });
  dir = await mkdtemp(join(tmpdir(), "vr-recordings-big-"));
});
afterAll(async () => {
  for (const p of procs) {
    await killHard(p);
  }
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

async function daemon(): Promise<DaemonProcess> {
  const p = await spawnDaemon("all", {
    DATABASE_URL: db.url,
    REDIS_URL: inject("redisUrl"),
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    VMS_PUSH_PORT: "0",
    VMS_PUSH_TOKEN: TOKEN,
    VMS_RECORDINGS_STORE: `file://${dir}`,
    VMS_RECORDINGS_HOSTS: "127.0.0.1",
  });
  procs.push(p);
  return p;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Bytes written so far into the temporary file of a download in progress. */
async function partialBytes(): Promise<number> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  let max = 0;
  for (const f of files) {
    if (f.isFile() && f.name.endsWith(".part")) {
      max = Math.max(max, (await stat(join(f.parentPath, f.name))).size);
    }
  }
  return max;
}

it("stores a 200 MB recording intact after its daemon is killed mid-download, with flat memory", async () => {
  const first = await daemon();
  const pid = first.child.pid as number;
  const [call] = sim.control.generateCalls(30, ["robot"]).filter((c) => c.recordFile);
  const body = voiceRecordReport(call!)?.body;
  const res = await fetch(`${first.url}/push/VoiceRecordReport?token=${TOKEN}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([body]),
  });
  expect(res.status).toBe(200);
  const before = await rssOf(pid);
  let peak = before;
  await waitFor(
    async () => {
      peak = Math.max(peak, await rssOf(pid));
      return (await partialBytes()) > 80 * MB;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: "80 MB downloaded" },
  );
  await killHard(first);
  // Killed mid-download: still pending, nothing under a recording's name.
  const { rows: mid } = await db.pool.query("select fetch_status, storage_key from recordings");
  expect(mid).toEqual([{ fetch_status: "pending", storage_key: null }]);
  const named = async () =>
    (await readdir(dir, { recursive: true, withFileTypes: true })).filter(
      (f) => f.isFile() && f.name.endsWith(".wav"),
    );
  expect(await named()).toHaveLength(0);

  const second = await daemon();
  const pid2 = second.child.pid as number;
  const before2 = await rssOf(pid2);
  let peak2 = before2;
  const [row] = await waitFor(
    async () => {
      peak2 = Math.max(peak2, await rssOf(pid2));
      const { rows } = await db.pool.query<{
        fetch_status: string;
        storage_key: string;
        sha256: string;
        bytes: string;
      }>("select fetch_status, storage_key, sha256, bytes from recordings");
      return rows[0]?.fetch_status === "stored" ? rows : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200, what: "the recording stored by the second process" },
  );
  const expected = await sha256Of(wavStream(`${call!.callId.replace("^", "_")}.wav`, DATA_BYTES));
  expect(row?.sha256).toBe(expected);
  expect(Number(row?.bytes)).toBe(44 + DATA_BYTES);
  expect(await sha256Of(createReadStream(join(dir, row!.storage_key)))).toBe(expected);
  expect(await named()).toHaveLength(1);
  // Streaming: far less than the recording's 200 MB on top of the process's own footprint.
  expect(peak - before).toBeLessThan(64 * MB);
  expect(peak2 - before2).toBeLessThan(64 * MB);
  console.log(
    `RSS growth while streaming: first ${((peak - before) / MB).toFixed(1)} MB, second ${((peak2 - before2) / MB).toFixed(1)} MB (base ${(before / MB).toFixed(0)} / ${(before2 / MB).toFixed(0)} MB)`,
  );
}, 240_000);
