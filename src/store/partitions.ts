/**
 * Month partitions of `receipts` and `call_events` (migrations/0005_partition_receipts.sql,
 * README "Database"), and of the outbox `events` and its `deliveries`
 * (migrations/0010_outcome_delivery.sql): created ahead by every daemon, dropped past retention
 * by `prune`.
 *
 * Months are Beijing calendar months, as in the migration; partition `<table>_pYYYY_MM` holds
 * [YYYY-MM-01 00:00 +08, first of the next month 00:00 +08). Creation goes through the
 * migration's vr_create_month_partition (one creator at a time under an advisory lock,
 * idempotent, moves rows of that month out of the default partition first), so any number of
 * processes may run it at once.
 */
import type pg from "pg";

import type { Logger } from "../logger.js";
import { inTransaction as inPlainTransaction } from "./transaction.js";

export const PARTITIONED_TABLES = ["receipts", "call_events", "events", "deliveries"] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** The partition key column of each table. */
const KEY_COLUMN: Record<PartitionedTable, string> = {
  receipts: "receipt_time",
  call_events: "status_time",
  events: "occurred_at",
  deliveries: "created_at",
};

/** Months created ahead of the current one. */
export const MONTHS_AHEAD = 2;

const BEIJING_OFFSET_MS = 8 * 3600_000;
/** Months before this are implausible times: their rows stay in the default partition. */
const EARLIEST_MONTH = "2000-01-01";
/** A partition DDL waits at most this long for its locks, then gives up until the next run. */
const LOCK_TIMEOUT = "5s";

/** First day ('YYYY-MM-DD') of the Beijing month containing `t`, shifted by `offset` months. */
export function beijingMonth(t: Date, offset = 0): string {
  const b = new Date(t.getTime() + BEIJING_OFFSET_MS);
  const d = new Date(Date.UTC(b.getUTCFullYear(), b.getUTCMonth() + offset, 1));
  return d.toISOString().slice(0, 10);
}

/** The instant a Beijing month ('YYYY-MM-DD', first day) begins. */
export function monthStart(month: string): Date {
  return new Date(`${month}T00:00:00+08:00`);
}

export function partitionName(table: PartitionedTable, month: string): string {
  return `${table}_p${month.slice(0, 4)}_${month.slice(5, 7)}`;
}

const PARTITION_NAME = /^(receipts|call_events|events|deliveries)_p(\d{4})_(\d{2})$/;

export interface MonthPartition {
  table: PartitionedTable;
  name: string;
  /** First day of its Beijing month, 'YYYY-MM-DD'. */
  month: string;
  /** Whether it is still attached (a prune interrupted between detach and drop leaves it not). */
  attached: boolean;
}

/** Every month partition, attached or left detached by an interrupted prune, oldest first. */
export async function listMonthPartitions(db: pg.Pool | pg.PoolClient): Promise<MonthPartition[]> {
  const { rows } = await db.query<{ name: string; attached: boolean }>(
    `select c.relname as name, exists (select 1 from pg_inherits i where i.inhrelid = c.oid) as attached
       from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
        and c.relname ~ '^(receipts|call_events|events|deliveries)_p[0-9]{4}_[0-9]{2}$'`,
  );
  const out: MonthPartition[] = [];
  for (const r of rows) {
    const m = PARTITION_NAME.exec(r.name);
    if (m) {
      out.push({
        table: m[1] as PartitionedTable,
        name: r.name,
        month: `${m[2]}-${m[3]}-01`,
        attached: r.attached,
      });
    }
  }
  return out.sort((a, b) => a.month.localeCompare(b.month) || a.name.localeCompare(b.name));
}

/** Runs `fn` in a transaction whose lock waits end after LOCK_TIMEOUT. */
function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return inPlainTransaction(pool, async (client) => {
    await client.query(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
    return fn(client);
  });
}

export interface EnsureOptions {
  now?: Date;
  monthsAhead?: number;
}

/**
 * Creates the partitions of this month and the next `monthsAhead`, and of every earlier month
 * (2000 onwards) that has rows waiting in a default partition (e.g. an archive of an old month
 * replayed), moving those rows in. Returns the partitions it created. Idempotent.
 */
export async function ensurePartitions(
  pool: pg.Pool,
  options: EnsureOptions = {},
): Promise<string[]> {
  const now = options.now ?? new Date();
  const ahead = options.monthsAhead ?? MONTHS_AHEAD;
  const last = beijingMonth(now, ahead);
  const wanted: [PartitionedTable, string][] = [];
  for (const table of PARTITIONED_TABLES) {
    const months = new Set<string>();
    for (let i = 0; i <= ahead; i++) {
      months.add(beijingMonth(now, i));
    }
    // Rows beyond the months created ahead stay in the default until their month is near.
    const col = KEY_COLUMN[table];
    const { rows } = await pool.query<{ month: string }>(
      `select distinct to_char(${col} at time zone 'Asia/Shanghai', 'YYYY-MM-01') as month
         from ${table}_default where ${col} >= $1 and ${col} < $2`,
      [monthStart(EARLIEST_MONTH), monthStart(beijingMonth(monthStart(last), 1))],
    );
    rows.forEach((r) => months.add(r.month));
    [...months].sort().forEach((m) => wanted.push([table, m]));
  }
  const existing = new Set(
    (await listMonthPartitions(pool)).filter((p) => p.attached).map((p) => p.name),
  );
  const created: string[] = [];
  for (const [table, month] of wanted) {
    const name = partitionName(table, month);
    if (existing.has(name)) {
      continue;
    }
    const made = await inTransaction(pool, async (c) => {
      const { rows } = await c.query<{ made: boolean }>(
        "select vr_create_month_partition($1, $2::date) as made",
        [table, month],
      );
      return rows[0]?.made === true;
    });
    if (made) {
      created.push(name);
    }
  }
  return created;
}

export interface MaintainerOptions {
  pool: pg.Pool;
  logger: Logger;
  /** How often to check (default hourly: months change rarely, the default catches the rest). */
  intervalMs?: number;
}

/**
 * Keeps the month partitions created ahead: at start and every interval. A failure (PostgreSQL
 * down, a lock not granted within 5 s) is logged and retried at the next run; nothing depends
 * on it in the meantime, since the default partitions take any row.
 */
export function createPartitionMaintainer(options: MaintainerOptions) {
  const { pool, logger } = options;
  const intervalMs = options.intervalMs ?? 3600_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  function runOnce(): Promise<void> {
    running ??= ensurePartitions(pool)
      .then((created) => {
        if (created.length > 0) {
          logger.info({ created }, "created month partitions");
        }
      })
      .catch((err: unknown) => {
        logger.warn({ err }, "could not create month partitions; will retry");
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    runOnce,
    start() {
      void runOnce();
      timer = setInterval(() => void runOnce(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export interface PruneOptions {
  /** Partitions whose whole month ends at or before this instant are dropped. */
  cutoff: Date;
  dryRun?: boolean;
}

export interface PruneResult {
  /** Dropped (or, with dryRun, that would be). */
  dropped: MonthPartition[];
  /** Partitions kept because some of their rows are still in flight (countWaiting). */
  refused: (MonthPartition & { unprocessed: number })[];
}

/**
 * Drops the receipts, call_events, events and deliveries month partitions older than the cutoff, and forgets their
 * receipts' dedup keys. Never touches calls, recordings, rejected_receipts, dialogue_turns or
 * the default partitions. A receipts partition with unprocessed receipts is refused (they are
 * acknowledged and not yet applied), and so is an events or deliveries partition with a
 * delivery still pending.
 *
 * Per partition: detach it in a short transaction that holds the parent's lock (so no receipt
 * can be added to it between the check and the detach), then delete its keys and drop it
 * (slower, and without blocking intake). A partition left detached by an interruption between
 * the two is finished by the next prune.
 */
export async function prunePartitions(pool: pg.Pool, options: PruneOptions): Promise<PruneResult> {
  const result: PruneResult = { dropped: [], refused: [] };
  for (const p of await listMonthPartitions(pool)) {
    const end = monthStart(beijingMonth(monthStart(p.month), 1));
    if (end.getTime() > options.cutoff.getTime()) {
      continue;
    }
    const unprocessed = await countWaiting(pool, p);
    if (unprocessed > 0) {
      result.refused.push({ ...p, unprocessed });
      continue;
    }
    if (options.dryRun) {
      result.dropped.push(p);
      continue;
    }
    if (p.attached) {
      const detached = await inTransaction(pool, async (c) => {
        await c.query(`lock table ${p.table} in access exclusive mode`);
        const n = await countWaiting(c, p);
        if (n > 0) {
          result.refused.push({ ...p, unprocessed: n });
          return false;
        }
        await c.query(`alter table ${p.table} detach partition ${p.name}`);
        return true;
      });
      if (!detached) {
        continue;
      }
    }
    await inTransaction(pool, async (c) => {
      if (p.table === "receipts") {
        await c.query(
          `delete from receipt_keys k using ${p.name} r
            where k.dedup_key = r.dedup_key and k.receipt_id = r.id`,
        );
      }
      await c.query(`drop table ${p.name}`);
    });
    result.dropped.push({ ...p, attached: false });
  }
  return result;
}

/**
 * Rows of a partition that are still in flight: receipts not applied yet, deliveries not sent
 * yet, events with a delivery still pending. Such a partition is kept.
 */
async function countWaiting(db: pg.Pool | pg.PoolClient, p: MonthPartition): Promise<number> {
  const where: Record<PartitionedTable, string> = {
    receipts: "processed_at is null",
    call_events: "false",
    // Not "not fanned out yet": without webhook endpoints no event ever is.
    events: `exists (select 1 from deliveries d where d.event_id = x.id and d.status = 'pending')`,
    deliveries: "status = 'pending'",
  };
  if (p.table === "call_events") {
    return 0;
  }
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from ${p.name} x where ${where[p.table]}`,
  );
  return rows[0]?.n ?? 0;
}
