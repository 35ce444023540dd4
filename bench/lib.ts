/**
 * Shared bench plumbing: a throw-away database, a unique BullMQ prefix, report lines in the
 * "figure / anchor / ratio" form every benchmark prints, and JSON results in bench/results/.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Redis } from "ioredis";
import pg from "pg";

import { normalizeReceipt } from "../src/domain/receipt.js";
import { createCallGenerator, type Receipt, type SimCall } from "../src/simulator/index.js";
import { runMigrations } from "../src/store/migrate.js";

export const DATABASE_URL =
  process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface BenchDb {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function createBenchDb(): Promise<BenchDb> {
  const name = `vr_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(DATABASE_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // pool.end() resolves before its connections have closed, so `drop … with (force)` below can
  // still terminate one: that FATAL arrives as a pool 'error', which must not crash the bench.
  pool.on("error", () => {});
  await runMigrations(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: DATABASE_URL });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** Runs every clean-up step even when one fails; a failure is reported and fails the bench. */
export async function cleanUp(...steps: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      console.error(`clean-up step failed: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}

export function benchPrefix(): string {
  return `{vrb-${randomBytes(4).toString("hex")}}`;
}

export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) {
      await redis.del(...keys);
    }
  } while (cursor !== "0");
  redis.disconnect();
}

export interface Figure {
  name: string;
  unit: string;
  value: number;
  anchorName: string;
  anchor: number;
  target?: string;
}

export function printFigures(title: string, figures: Figure[]): void {
  console.log(`\n== ${title}  (${os.cpus().length} cores, node ${process.version})`);
  for (const f of figures) {
    if (!(f.anchor > 0)) {
      console.log(`${f.name}: ${fmt(f.value)} ${f.unit} | no anchor in this run: ${f.anchorName}`);
      continue;
    }
    const ratio = f.value / f.anchor;
    console.log(
      `${f.name}: ${fmt(f.value)} ${f.unit} | anchor ${f.anchorName}: ${fmt(f.anchor)} ${f.unit} | ratio ${ratio.toFixed(3)}×${f.target ? ` (target ${f.target})` : ""}`,
    );
  }
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2);
}

export async function saveResults(name: string, data: unknown): Promise<void> {
  const dir = new URL("./results/", import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = new URL(`${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, dir);
  await writeFile(
    file,
    JSON.stringify({ name, at: new Date().toISOString(), node: process.version, data }, null, 2),
  );
}

/** A VoiceReport with a unique call id (n) — the typical ~400-byte receipt. */
export function voiceReport(n: number, run: string): Record<string, string> {
  const id = String(n).padStart(12, "0");
  return {
    call_id: `${run}^${id}`,
    status_code: "200000",
    status_msg: "用户听完语音",
    out_id: `bench-${n % 1000}`,
    caller: "05712000000",
    callee: `138${String(n % 1e8).padStart(8, "0")}`,
    start_time: "2026-11-20 10:00:10",
    end_time: "2026-11-20 10:00:40",
    ring_time: "2026-11-20 10:00:05",
    originate_time: "2026-11-20 10:00:01",
    duration: "30",
    hangup_direction: "用户",
    voice_type: "voice",
    toll_type: "LOCAL",
  };
}

const callIdOf = (n: number, run: string) => `${run}^${String(n).padStart(12, "0")}`;

/** The in-call states of call n (originate, a DTMF key, hang-up), as VoiceCallReports. */
export function voiceCallReports(n: number, run: string): Record<string, string>[] {
  const callId = callIdOf(n, run);
  const outId = `bench-${n % 1000}`;
  return [
    { call_id: callId, out_id: outId, status_code: "200101", status_time: "2026-11-20 10:00:01" },
    {
      call_id: callId,
      out_id: outId,
      status_code: "300000",
      status_time: "2026-11-20 10:00:20",
      dtmf: String(n % 10),
      smart_status_code: "ANSWERED",
    },
    { call_id: callId, out_id: outId, status_code: "200100", status_time: "2026-11-20 10:00:40" },
  ];
}

/** The recording of call n, with a signed OSS URL as Alibaba sends it. */
export function voiceRecordReport(n: number, run: string): Record<string, string> {
  const callId = callIdOf(n, run);
  return {
    call_id: callId,
    out_id: `bench-${n % 1000}`,
    record_file: `https://voice-record.oss-cn-hangzhou.aliyuncs.com/rec/${callId.replace("^", "_")}.wav?Expires=1795000000&OSSAccessKeyId=LTAI000000&Signature=abc%2Bdef${n}`,
    start_time: "2026-11-20 10:00:10",
    end_time: "2026-11-20 10:00:40",
    record_begin_time: "2026-11-20 10:00:10",
    duration: "30",
    status_code: "200000",
    smart_status_code: "ANSWERED",
  };
}

/** CPU seconds (user + system) used so far by each process: pid → [command, seconds]. */
export async function cpuSnapshot(): Promise<Map<number, [string, number]>> {
  const { readdir, readFile } = await import("node:fs/promises");
  const out = new Map<number, [string, number]>();
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) {
      continue;
    }
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the ")" here.
    out.set(pid, [comm, (Number(fields[11]) + Number(fields[12])) / 100]);
  }
  return out;
}

/**
 * CPU seconds used between two snapshots, grouped: by `labels` (pid → name) first, then
 * postgres / redis-server by command, everything else as "other". Processes that started in
 * between count from zero; processes that exited in between are lost.
 */
export function cpuBetween(
  before: Map<number, [string, number]>,
  after: Map<number, [string, number]>,
  labels: Map<number, string>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, [comm, secs]] of after) {
    const prev = before.get(pid);
    const used = prev && prev[0] === comm ? secs - prev[1] : secs;
    const key =
      labels.get(pid) ?? (comm === "postgres" || comm === "redis-server" ? comm : "other");
    out[key] = (out[key] ?? 0) + used;
  }
  return out;
}

/** Backends connected to the pool's database, labelled `label` (for cpuBetween). */
export async function backendsOf(pool: pg.Pool, label: string): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database()",
  );
  return new Map(rows.map((r) => [r.pid, label]));
}

/** `--name <positive number>` from the command line, or undefined when absent or not one. */
export function numberArg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** True when this module is the script node/tsx was started with (not imported by bench/all.ts). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) {
    return false;
  }
  const strip = (p: string) => p.replace(/\.[cm]?[jt]s$/, "");
  return strip(fileURLToPath(moduleUrl)) === strip(path.resolve(script));
}

/** Peak resident set (VmHWM) of a live process, in MB; undefined once it has exited. */
export async function peakRssMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) {
    return undefined;
  }
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Redis `INFO memory` used_memory, in bytes. */
export async function redisUsedMemory(url = REDIS_URL): Promise<number> {
  const redis = new Redis(url);
  try {
    return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? NaN);
  } finally {
    redis.disconnect();
  }
}

/**
 * `count` simulated calls that all ended in the past, so their detail is visible at once (lag 0).
 * The simulator's own generator (`control.generateCalls`) spaces calls 3 s apart from an hour
 * ago: beyond ~1,200 calls some would end in the future and (correctly) never be reconciled.
 */
export function pastCalls(count: number, seed: number): SimCall[] {
  return createCallGenerator({
    seed,
    startTime: Date.now() - 3 * 3600_000,
    meanGapMs: Math.min(3000, 3600_000 / count),
  }).generate(count);
}

/** The distinct dedup keys of these receipts: the rows `receipts` must end up with. */
export function dedupKeys(receipts: Iterable<Receipt>): Set<string> {
  const keys = new Set<string>();
  for (const r of receipts) {
    const n = normalizeReceipt(r.messageType, r.body);
    if (n.ok) {
      keys.add(n.receipt.dedupKey);
    }
  }
  return keys;
}

/** The `n` column of a one-row count query (`select count(*)::int as n …`). */
export async function count(pool: pg.Pool, sql: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(sql);
  return rows[0]?.n ?? 0;
}

/**
 * Poll `check` until it holds; returns `performance.now()` at that moment, or throws naming
 * `what` after `timeoutMs`.
 */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  o: { timeoutMs: number; intervalMs: number },
): Promise<number> {
  const deadline = Date.now() + o.timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`${what} not reached in ${o.timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  return performance.now();
}
