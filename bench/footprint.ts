/**
 * bench/footprint.ts — what the pipeline keeps per call, for the capacity plan (docs/scaling.md):
 *
 *   npx tsx bench/footprint.ts [--calls 3000] [--no-reconcile]
 *
 * Simulated calls are pushed to an ingest process (no worker yet) and the BullMQ keys under the
 * run's prefix are weighed with MEMORY USAGE: bytes per queued receipt. Then a worker applies
 * and reconciles them (QueryCallDetailByCallId on the simulator) and the keys are weighed again:
 * what BullMQ retains once the work is done (completed jobs, events stream). Last, PostgreSQL:
 * heap + TOAST and indexes of every table (all partitions), less the same tables just after the
 * migrations, ÷ calls — as the pipeline left them and after VACUUM FULL (live rows only).
 * MEMORY USAGE and per-database sizes are exact on a shared Redis and PostgreSQL, unlike
 * used_memory deltas. Anchors, measured in the same run: the same receipts as one BullMQ job
 * each (Redis), and their JSON size (PostgreSQL).
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";

import { QUEUE_NAMES, prepareJobs, reconcileJobId } from "../src/pipeline/jobs.js";
import { daemonEnvFor } from "../src/simulator/daemonEnv.js";
import {
  createPushClient,
  groupByType,
  receiptsForCall,
  startSimulator,
  type Receipt,
} from "../src/simulator/index.js";
import {
  benchPrefix,
  dedupKeys,
  pastCalls,
  type BenchDb,
  cleanUp,
  count,
  createBenchDb,
  dropPrefix,
  isMain,
  numberArg,
  printFigures,
  REDIS_URL,
  saveResults,
  until,
} from "./lib.js";
import { startChild } from "./load.js";

const TABLES = [
  "receipts",
  "receipt_keys",
  "calls",
  "call_events",
  "recordings",
  "rejected_receipts",
  "dialogue_turns",
];

/** The tables that hold rows: each partition of a partitioned table, else the table itself. */
const LEAVES = `with leaves as (
   select t.name, p.relid from unnest($1::text[]) t(name)
    cross join lateral pg_partition_tree(t.name::regclass) p where p.isleaf
   union all
   select t.name, c.oid from unnest($1::text[]) t(name)
     join pg_class c on c.oid = t.name::regclass and c.relkind = 'r')`;

interface TableSize {
  table: string;
  rows: number;
  tableBytes: number;
  indexBytes: number;
  indexes: number;
}

/** Heap + TOAST (pg_table_size) and indexes of each table, summed over its partitions. */
async function tableSizes(db: BenchDb): Promise<Map<string, TableSize>> {
  const { rows } = await db.pool.query<TableSize>(
    `${LEAVES}
     select l.name as "table",
            (select count(*) from pg_index i join leaves x on i.indrelid = x.relid where x.name = l.name)::int as indexes,
            sum(pg_table_size(l.relid))::float8 as "tableBytes",
            sum(pg_indexes_size(l.relid))::float8 as "indexBytes",
            0 as rows
       from leaves l
      group by l.name`,
    [TABLES],
  );
  for (const r of rows) {
    r.rows = await count(db.pool, `select count(*)::int as n from ${r.table}`);
  }
  return new Map(rows.map((r) => [r.table, r]));
}

/** Every index with its size (partition indexes under their own names), largest first. */
async function indexSizes(db: BenchDb): Promise<{ index: string; bytes: number }[]> {
  const { rows } = await db.pool.query<{ index: string; bytes: number }>(
    `${LEAVES}
     select i.indexrelid::regclass::text as index, pg_relation_size(i.indexrelid)::float8 as bytes
       from leaves l join pg_index i on i.indrelid = l.relid
      where pg_relation_size(i.indexrelid) > 16384
      order by 2 desc`,
    [TABLES],
  );
  return rows;
}

/** MEMORY USAGE of every key under the prefix, by kind (job hashes vs the queue's own keys). */
async function redisBytes(prefix: string): Promise<Record<string, number>> {
  const redis = new Redis(REDIS_URL);
  const out: Record<string, number> = {};
  const jobs: Record<string, number> = {};
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const bytes = (await redis.memory("USAGE", key, "SAMPLES", 0)) ?? 0;
        // <prefix>:<queue>:<job id> is a job hash; the rest are named (wait, completed, events…).
        const rest = key.slice(prefix.length + 1).split(":");
        const kind = rest.length === 2 && /^(p-|rc-|\d+$)/.test(rest[1] ?? "") ? "job" : rest[1];
        const name = `${rest[0]}:${kind ?? "?"}`;
        out[name] = (out[name] ?? 0) + bytes;
        if (kind === "job") {
          jobs[`${rest[0]}:jobs`] = (jobs[`${rest[0]}:jobs`] ?? 0) + 1;
        }
      }
    } while (cursor !== "0");
    return { ...out, ...jobs };
  } finally {
    redis.disconnect();
  }
}

/** Redis bytes under a prefix of their own once these jobs are added to `queueName`. */
async function weighJobs(
  queueName: string,
  jobs: Parameters<Queue["addBulk"]>[0],
): Promise<Record<string, number>> {
  const prefix = benchPrefix();
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, {
    connection,
    prefix,
    streams: { events: { maxLen: 1000 } },
  });
  try {
    for (let i = 0; i < jobs.length; i += 1000) {
      await queue.addBulk(jobs.slice(i, i + 1000));
    }
    return await redisBytes(prefix);
  } finally {
    await queue.close();
    connection.disconnect();
    await dropPrefix(prefix);
  }
}

/**
 * Bytes per delayed reconcile job, added as the scheduler adds them (src/reconcile/scheduler.ts:
 * same options, events stream capped at 1,000): in the daemon each call's job waits
 * VMS_RECONCILE_DELAY_SECONDS, too long for this run, so it is weighed here.
 */
async function reconcileJobBytes(
  callIds: string[],
): Promise<{ perJob: number; all: Record<string, number> }> {
  const all = await weighJobs(
    QUEUE_NAMES.reconcile,
    prepareJobs(
      "reconcile",
      callIds.map((callId) => ({
        data: { callId },
        jobId: reconcileJobId(callId),
        delayMs: 180_000,
      })),
    ).bulk,
  );
  const perJob = ((all["reconcile:job"] ?? 0) + (all["reconcile:delayed"] ?? 0)) / callIds.length;
  return { perJob, all };
}

/**
 * The anchor of bytes per queued receipt: the usual design, one waiting BullMQ job per receipt
 * carrying the receipt itself (reference §1.3 measured 1,060 B for a 392-byte receipt).
 */
async function oneJobPerReceiptBytes(receipts: readonly Receipt[]): Promise<number> {
  const all = await weighJobs(
    "anchor",
    receipts.map((r) => ({ name: r.messageType, data: r.body })),
  );
  return sum(all) / receipts.length;
}

/** Bytes only (the `<queue>:jobs` entries are counts). */
const sum = (o: Record<string, number>) =>
  Object.entries(o).reduce((a, [k, v]) => (k.endsWith(":jobs") ? a : a + v), 0);

export async function run(o: { calls?: number; reconcile?: boolean } = {}) {
  const calls = o.calls ?? 3000;
  const reconcile = o.reconcile ?? true;
  const sim = await startSimulator({ detailLagMs: 0, detailQps: 100, seed: 42 });
  const db = await createBenchDb();
  const prefix = benchPrefix();
  const env = {
    ...daemonEnvFor(sim, []), // push only: the stored rows do not depend on the delivery mode
    DATABASE_URL: db.url,
    REDIS_URL,
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    VMS_PUSH_PORT: "0",
    VMS_RECONCILE: reconcile ? "on" : "off",
    VMS_RECONCILE_DELAY_SECONDS: "0",
    VMS_RECONCILE_QPS: "100",
    LOG_LEVEL: "warn",
  };
  const children: Awaited<ReturnType<typeof startChild>>[] = [];
  const rows = (sql: string) => count(db.pool, sql);
  /** Poll every 200 ms, for at most 5 minutes. */
  const settled = (what: string, check: () => Promise<boolean>) =>
    until(what, check, { timeoutMs: 300_000, intervalMs: 200 });
  try {
    const ingest = await startChild(["src/cli.ts", "run", "--role", "ingest"], {
      ...env,
      LOG_LEVEL: "info", // startChild waits for the "http server listening" line
    });
    children.push(ingest);
    // Empty tables with this month's partitions (made by the daemon at start): the baseline.
    const empty = await tableSizes(db);
    const generated = pastCalls(calls, 42);
    sim.control.loadCalls(generated);
    const receipts = generated.flatMap((c) => receiptsForCall(c));
    const keys = dedupKeys(receipts);
    const outbound = generated.filter((c) => c.kind !== "inbound").length;
    const client = createPushClient({ url: `${ingest.url}/push/{messageType}`, timeoutMs: 30_000 });
    for (const [type, bodies] of groupByType(receipts)) {
      for (let i = 0; i < bodies.length; i += 100) {
        await client.push(type, bodies.slice(i, i + 100));
      }
    }
    await client.close();
    await settled(
      "every receipt durable",
      async () => (await rows("select count(*)::int as n from receipts")) >= keys.size,
    );
    const queued = await redisBytes(prefix);

    children.push(
      await startChild(
        ["src/cli.ts", "run", "--role", "worker"],
        { ...env, LOG_LEVEL: "info" },
        {
          ready: /"workers started"/,
        },
      ),
    );
    await settled(
      "every receipt applied",
      async () =>
        (await rows("select count(*)::int as n from receipts where processed_at is null")) === 0,
    );
    if (reconcile) {
      await settled(
        "every outbound call reconciled",
        async () =>
          (await rows(
            "select count(*)::int as n from calls where reconcile_status = 'reconciled'",
          )) >= outbound,
      );
    }
    const redis = new Redis(REDIS_URL);
    const completedJobs = await redis.zcard(`${prefix}:receipts:completed`);
    redis.disconnect();
    const retained = await redisBytes(prefix);
    const detailRequests = sim.control.counters().detail.calls;
    const reconcileJobs = await reconcileJobBytes(generated.map((c) => c.callId));
    const anchorBytesPerQueuedReceipt = await oneJobPerReceiptBytes(receipts);
    /** The receipts as Alibaba sends them (JSON), per call: what the tables store, with keys. */
    const rawJsonBytesPerCall =
      receipts.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.body)), 0) / calls;
    const asLeft = await tableSizes(db);
    const indexes = await indexSizes(db);
    await db.pool.query("vacuum full analyze");
    const vacuumed = await tableSizes(db);
    return {
      calls,
      receipts: keys.size,
      outbound,
      reconcile,
      queued,
      completedJobs,
      reconcileJobs,
      anchorBytesPerQueuedReceipt,
      rawJsonBytesPerCall,
      retained,
      detailRequests,
      empty,
      asLeft,
      vacuumed,
      indexes,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await cleanUp(
      () => sim.close(),
      () => db.drop(),
      () => dropPrefix(prefix),
    );
  }
}

function print(r: Awaited<ReturnType<typeof run>>): void {
  const kb = (b: number) => `${(b / 1024).toFixed(0)} kB`;
  console.log(
    `\n== footprint: ${r.calls} calls, ${r.receipts} receipts (${(r.receipts / r.calls).toFixed(2)} per call), ${r.outbound} outbound${r.reconcile ? " reconciled" : ""}`,
  );
  console.log(
    `Redis, ${r.receipts} receipts queued (no worker): ${kb(sum(r.queued))} = ${(sum(r.queued) / r.receipts).toFixed(0)} B per queued receipt — ${JSON.stringify(r.queued)}`,
  );
  console.log(
    `Redis, one delayed reconcile job per call (as the scheduler adds them, ${r.calls} jobs): ${r.reconcileJobs.perJob.toFixed(0)} B per job (hash + delayed zset entry), events stream capped at 1,000 entries — ${JSON.stringify(r.reconcileJobs.all)}`,
  );
  console.log(
    `QueryCallDetailByCallId: ${r.detailRequests} requests for ${r.outbound} outbound calls = ${(r.detailRequests / Math.max(1, r.outbound)).toFixed(2)} per call (ProdId learning included)`,
  );
  console.log(
    `Redis once applied and reconciled: ${kb(sum(r.retained))} retained, ${r.completedJobs} completed persist jobs kept (${((r.retained["receipts:job"] ?? 0) / Math.max(1, r.completedJobs)).toFixed(0)} B per job hash) — ${JSON.stringify(r.retained)}`,
  );
  console.log(
    "PostgreSQL, less the empty tables: table | rows | heap+TOAST B/call | indexes (count) B/call | total B/call | after VACUUM FULL B/call",
  );
  let total = 0;
  let totalVacuumed = 0;
  for (const [name, s] of r.asLeft) {
    const e = r.empty.get(name);
    const v = r.vacuumed.get(name);
    const heap = (s.tableBytes - (e?.tableBytes ?? 0)) / r.calls;
    const idx = (s.indexBytes - (e?.indexBytes ?? 0)) / r.calls;
    const vac =
      ((v?.tableBytes ?? 0) + (v?.indexBytes ?? 0) - (e?.tableBytes ?? 0) - (e?.indexBytes ?? 0)) /
      r.calls;
    total += heap + idx;
    totalVacuumed += vac;
    console.log(
      `  ${name} | ${s.rows} | ${heap.toFixed(0)} | ${idx.toFixed(0)} (${s.indexes}) | ${(heap + idx).toFixed(0)} | ${vac.toFixed(0)}`,
    );
  }
  console.log(`  all tables | | | | ${total.toFixed(0)} | ${totalVacuumed.toFixed(0)}`);
  printFigures("footprint: figures against anchors measured in this run", [
    {
      name: "Redis per queued receipt (ids in a job, bodies in PostgreSQL)",
      unit: "B",
      value: sum(r.queued) / r.receipts,
      anchorName: "one BullMQ job per receipt carrying it (the usual design)",
      anchor: r.anchorBytesPerQueuedReceipt,
    },
    {
      name: "PostgreSQL per call, all tables as left",
      unit: "B",
      value: total,
      anchorName: "the call's receipts as JSON",
      anchor: r.rawJsonBytesPerCall,
    },
    {
      name: "PostgreSQL per call, all tables after VACUUM FULL",
      unit: "B",
      value: totalVacuumed,
      anchorName: "the call's receipts as JSON",
      anchor: r.rawJsonBytesPerCall,
    },
  ]);
  console.log(
    `largest indexes (as left): ${r.indexes
      .slice(0, 12)
      .map((i) => `${i.index} ${kb(i.bytes)}`)
      .join(", ")}`,
  );
}

if (isMain(import.meta.url)) {
  const r = await run({
    calls: numberArg("calls") ?? 3000,
    reconcile: !process.argv.includes("--no-reconcile"),
  });
  print(r);
  await saveResults("footprint", {
    ...r,
    empty: [...r.empty.values()],
    asLeft: [...r.asLeft.values()],
    vacuumed: [...r.vacuumed.values()],
  });
}
