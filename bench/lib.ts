/**
 * Shared bench plumbing: a throw-away database, a unique BullMQ prefix, report lines in the
 * "figure / anchor / ratio" form every benchmark prints, and JSON results in bench/results/.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";

import { Redis } from "ioredis";
import pg from "pg";

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
    const ratio = f.anchor > 0 ? f.value / f.anchor : NaN;
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
