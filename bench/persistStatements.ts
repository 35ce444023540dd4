/**
 * bench/persistStatements.ts — where a persisted receipt's PostgreSQL time goes: the persist
 * path (applyReceipts) run alone, on ONE connection, batch after batch (no lock waits, no
 * concurrency), over receipts made durable through the real intake. Prints wall time and the
 * backend's CPU per receipt, WAL bytes and records per receipt, row and index writes per receipt
 * (pg_stat_user_tables deltas × indexes of each table, HOT updates apart) and, when the server
 * has pg_stat_statements loaded (shared_preload_libraries), each statement's time per receipt.
 * A profiling tool for docs/benchmarks.md, "Where a persisted receipt's microseconds go".
 *
 *   npx tsx bench/persistStatements.ts [--calls 4000] [--rounds 2] [--drop-explorer-indexes]
 *                                      [--drop-indexes name,name]
 *
 * --drop-explorer-indexes drops migration 0007's seven calls indexes first (the scratch
 * database only): their write cost, measured.
 */
import { readFile } from "node:fs/promises";

import { loadConfig } from "../src/config/index.js";
import { createRedis } from "../src/infra/redis.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/ops/metrics.js";
import { createIntake, type IntakeBatch } from "../src/pipeline/intake.js";
import { applyReceipts } from "../src/pipeline/persist.js";
import { openBoundQueues } from "../src/pipeline/queues.js";
import {
  benchPrefix,
  cleanUp,
  createBenchDb,
  dropPrefix,
  isMain,
  numberArg,
  REDIS_URL,
  voiceCallReports,
  voiceRecordReport,
  voiceReport,
} from "./lib.js";

const EXPLORER_INDEXES = [
  "calls_explorer_time_idx",
  "calls_explorer_status_idx",
  "calls_explorer_product_idx",
  "calls_report_day_idx",
  "calls_out_id_prefix_idx",
  "calls_callee_suffix_idx",
  "calls_caller_suffix_idx",
];

const CLK_TCK = 100;

async function backendCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

export async function run(
  o: { calls?: number; rounds?: number; dropExplorer?: boolean; dropIndexes?: string[] } = {},
) {
  const calls = o.calls ?? 4000;
  const rounds = o.rounds ?? 2;
  const db = await createBenchDb();
  const prefix = benchPrefix();
  try {
    const drop = [...(o.dropExplorer ? EXPLORER_INDEXES : []), ...(o.dropIndexes ?? [])];
    if (drop.length > 0) {
      await db.pool.query(drop.map((i) => `drop index ${i}`).join(";"));
    }
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL,
      VMS_QUEUE_PREFIX: prefix,
      LOG_LEVEL: "silent",
    });
    const redis = createRedis(REDIS_URL, "producer");
    const queues = await openBoundQueues(config, redis, db.pool);
    const intake = createIntake({
      pool: db.pool,
      queues,
      metrics: createMetrics(),
      logger: createLogger({ level: "silent" }),
    });
    const pss = await db.pool
      .query("create extension if not exists pg_stat_statements")
      .then(() => db.pool.query("select pg_stat_statements_reset()"))
      .then(
        () => true,
        () => false,
      );
    const totals = { wall: 0, cpu: 0, worker: 0, wal: 0, walRecords: 0, receipts: 0 };
    const indexCount = new Map(
      (
        await db.pool.query<{ t: string; n: number }>(
          `select regexp_replace(relname, '_(p[0-9]{4}_[0-9]{2}|default)$', '') as t,
                  max(n)::int as n
             from (select relname, count(*) as n from pg_stat_user_indexes group by relname) i
            group by 1`,
        )
      ).rows.map((r) => [r.t, r.n]),
    );
    const tableStats = async () => {
      await db.pool.query("select pg_stat_force_next_flush()");
      await new Promise((r) => setTimeout(r, 1100));
      const { rows } = await db.pool.query<{ t: string; ins: string; upd: string; hot: string }>(
        `select regexp_replace(relname, '_(p[0-9]{4}_[0-9]{2}|default)$', '') as t,
                sum(n_tup_ins) ins, sum(n_tup_upd) upd, sum(n_tup_hot_upd) hot
           from pg_stat_user_tables
          where relname ~ '^(calls|call_events|recordings|events|receipts)(_p[0-9]{4}_[0-9]{2}|_default)?$'
          group by 1`,
      );
      return rows;
    };
    const idxOf = (t: string) => indexCount.get(t) ?? 0;
    const before = new Map((await tableStats()).map((r) => [r.t, r]));
    for (let round = 0; round < rounds; round++) {
      const run = `${round}${String(Date.now()).slice(-9)}`;
      const batches: IntakeBatch[] = [];
      const lists = [
        Array.from({ length: calls }, (_, n) => voiceReport(n, run)),
        Array.from({ length: calls }, (_, n) => voiceCallReports(n, run)).flat(),
        Array.from({ length: calls }, (_, n) => voiceRecordReport(n, run)),
      ];
      const types = ["VoiceReport", "VoiceCallReport", "VoiceRecordReport"];
      lists.forEach((list, t) => {
        for (let i = 0; i < list.length; i += 100) {
          batches.push({
            source: "http",
            messageType: types[t] as string,
            items: list.slice(i, i + 100).map((raw, k) => ({ raw, location: `x#${k}` })),
          });
        }
      });
      // Interleaved as the persist bench's queue holds them (types mixed in every batch).
      for (let i = batches.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [batches[i], batches[j]] = [batches[j] as IntakeBatch, batches[i] as IntakeBatch];
      }
      for (const b of batches) {
        await intake.accept(b);
      }
      const { rows: idRows } = await db.pool.query<{ id: string }>(
        "select id from receipts where processed_at is null order by id",
      );
      const ids = idRows.map((r) => Number(r.id));
      await db.pool.query("vacuum analyze");
      const client = await db.pool.connect();
      const { rows: p } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
      const pid = p[0]?.pid as number;
      client.release();
      const { rows: w0 } = await db.pool.query<{ lsn: string }>(
        "select pg_current_wal_lsn()::text as lsn",
      );
      const cpu0 = await backendCpu(pid);
      const worker0 = process.cpuUsage();
      const t0 = performance.now();
      // One connection: the pool's other connections are idle, applyReceipts takes one.
      for (let i = 0; i < ids.length; i += 1000) {
        const r = await applyReceipts(db.pool, ids.slice(i, i + 1000));
        if (r.applied !== Math.min(1000, ids.length - i)) {
          throw new Error(`applied ${r.applied}`);
        }
      }
      totals.wall += (performance.now() - t0) / 1000;
      const wu = process.cpuUsage(worker0);
      totals.worker += (wu.user + wu.system) / 1e6;
      totals.cpu += (await backendCpu(pid)) - cpu0;
      const { rows: w1 } = await db.pool.query<{ bytes: string }>(
        "select pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint::text as bytes",
        [w0[0]?.lsn],
      );
      totals.wal += Number(w1[0]?.bytes);
      totals.receipts += ids.length;
    }
    const after = await tableStats();
    const n = totals.receipts;
    const us = (s: number) => ((s * 1e6) / n).toFixed(1);
    console.log(
      `persist statements: ${n} receipts, one connection, batches of 1000${drop.length > 0 ? `, WITHOUT ${drop.join(", ")}` : ""}`,
    );
    console.log(
      `wall ${us(totals.wall)} µs/receipt (${Math.round(n / totals.wall)} receipts/s); PostgreSQL backend CPU ${us(totals.cpu)} µs; this process (the worker's JS) ${us(totals.worker)} µs; WAL ${Math.round(totals.wal / n)} B/receipt`,
    );
    let indexWrites = 0;
    for (const r of after) {
      const b = before.get(r.t);
      const ins = Number(r.ins) - Number(b?.ins ?? 0);
      const upd = Number(r.upd) - Number(b?.upd ?? 0);
      const hot = Number(r.hot) - Number(b?.hot ?? 0);
      const idx = idxOf(r.t);
      const writes = (ins + upd - hot) * idx;
      indexWrites += writes;
      console.log(
        `  ${r.t}: inserts ${(ins / n).toFixed(3)}, updates ${(upd / n).toFixed(3)} (HOT ${(hot / n).toFixed(3)}) per receipt; ${idx} indexes → ${(writes / n).toFixed(2)} index entries per receipt`,
      );
    }
    console.log(`  index entries written per receipt: ${(indexWrites / n).toFixed(2)}`);
    if (pss) {
      const { rows } = await db.pool.query<{ q: string; calls: string; ms: number; wal: string }>(
        `select left(regexp_replace(query, '\\s+', ' ', 'g'), 70) q, calls, total_exec_time ms,
                wal_records wal from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())
            and query not like '%pg_stat%' and query not ilike 'vacuum%'
            and query not like '%insert into receipt_keys%'
          order by total_exec_time desc limit 12`,
      );
      for (const r of rows) {
        console.log(
          `  ${((r.ms * 1000) / n).toFixed(1).padStart(6)} µs/receipt ${(Number(r.wal) / n).toFixed(2).padStart(6)} WAL rec  ×${r.calls}  ${r.q}`,
        );
      }
    }
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
    return totals;
  } finally {
    await cleanUp(
      () => db.drop(),
      () => dropPrefix(prefix),
    );
  }
}

if (isMain(import.meta.url)) {
  await run({
    calls: numberArg("calls") ?? 4000,
    rounds: numberArg("rounds") ?? 2,
    dropExplorer: process.argv.includes("--drop-explorer-indexes"),
    dropIndexes: process.argv.includes("--drop-indexes")
      ? (process.argv[process.argv.indexOf("--drop-indexes") + 1] ?? "").split(",")
      : [],
  });
}
