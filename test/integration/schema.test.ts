import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { createPool } from "../../src/store/db.js";
import { migrationsUpToDate, runMigrations } from "../../src/store/migrate.js";

/**
 * The columns users and reports rely on, per table: this list is where they are promised (the
 * README's "Database" names the tables, src/store/schema.ts defines them).
 */
const REQUIRED: Record<string, string[]> = {
  receipts: ["id", "dedup_key", "message_type", "source", "call_id", "body", "received_at"],
  calls: [
    "call_id",
    "out_id",
    "caller",
    "callee",
    "status_code",
    "status_msg",
    "smart_status_code",
    "start_time",
    "end_time",
    "duration_seconds",
    "hangup_direction",
    "dtmf",
    "reconcile_status",
    "reconciled_at",
    "prod_id",
    "detail",
    "discrepancies",
    "updated_at",
  ],
  call_events: [
    "call_id",
    "status_code",
    "status_time",
    "dtmf",
    "out_id",
    "smart_status_code",
    "body",
  ],
  recordings: [
    "call_id",
    "record_file",
    "start_time",
    "end_time",
    "duration_seconds",
    "record_begin_time",
    "status_code",
  ],
  rejected_receipts: ["id", "source", "message_type", "raw", "reason", "received_at"],
};

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function columns(table: string): Promise<Map<string, string>> {
  const { rows } = await db.pool.query<{ column_name: string; data_type: string }>(
    `select column_name, data_type from information_schema.columns
      where table_schema = 'public' and table_name = $1`,
    [table],
  );
  return new Map(rows.map((r) => [r.column_name, r.data_type]));
}

describe("database schema", () => {
  it.each(Object.entries(REQUIRED))("has every contract column in %s", async (table, required) => {
    const cols = await columns(table);
    expect(cols.size).toBeGreaterThan(0);
    for (const c of required) {
      expect(cols.has(c), `${table}.${c}`).toBe(true);
    }
  });

  it("stores times as timestamptz and bodies as jsonb", async () => {
    const calls = await columns("calls");
    expect(calls.get("start_time")).toBe("timestamp with time zone");
    expect(calls.get("detail")).toBe("jsonb");
    const receipts = await columns("receipts");
    expect(receipts.get("body")).toBe("jsonb");
    expect(receipts.get("received_at")).toBe("timestamp with time zone");
  });

  it("enforces the contract's unique keys", async () => {
    const { rows } = await db.pool.query<{ table_name: string; def: string }>(
      `select conrelid::regclass::text as table_name, pg_get_constraintdef(oid) as def
         from pg_constraint where contype in ('u', 'p') and connamespace = 'public'::regnamespace`,
    );
    const defs = rows.map((r) => `${r.table_name} ${r.def}`);
    // receipts is partitioned by receipt_time, so dedup_key is unique through its unpartitioned
    // companion receipt_keys (migration 0005, README "Database").
    expect(defs).toContain("receipt_keys PRIMARY KEY (dedup_key)");
    expect(defs).toContain("receipts PRIMARY KEY (id, receipt_time)");
    expect(defs).toContain("calls PRIMARY KEY (call_id)");
    expect(defs).toContain(
      "call_events UNIQUE NULLS NOT DISTINCT (call_id, status_code, status_time, dtmf)",
    );
    expect(defs).toContain("recordings UNIQUE (call_id, record_file)");
  });

  it("rejects a reconcile_status outside the contract", async () => {
    await expect(
      db.pool.query(`insert into calls (call_id, reconcile_status) values ('1^2', 'bogus')`),
    ).rejects.toThrow(/calls_reconcile_status_check/);
  });

  it("collapses a duplicate event that has no dtmf (NULLS NOT DISTINCT)", async () => {
    const insert = `insert into call_events (call_id, status_code, status_time, body)
      values ('9^9', '200101', '2026-01-01T00:00:00+08:00', '{}') on conflict do nothing`;
    await db.pool.query(insert);
    await db.pool.query(insert);
    const { rows } = await db.pool.query(
      `select count(*)::int as n from call_events where call_id = '9^9'`,
    );
    expect(rows[0].n).toBe(1);
  });

  it("is up to date, and migrating again applies nothing", async () => {
    const pool = createPool(db.url, { max: 2 });
    try {
      expect(await migrationsUpToDate(pool)).toBe(true);
      const again = await runMigrations(pool);
      expect(again.applied).toBe(0);
      expect(again.total).toBeGreaterThan(0);
    } finally {
      await pool.end();
    }
  });

  it("is safe when several processes migrate a fresh database at once", async () => {
    const fresh = await createEmptyDatabase();
    try {
      const pools = Array.from({ length: 4 }, () =>
        createPool(fresh.url, { max: 1, connectionTimeoutMillis: 5000 }),
      );
      const results = await Promise.all(pools.map((p) => runMigrations(p)));
      await Promise.all(pools.map((p) => p.end()));
      const total = results[0]!.total;
      expect(results.reduce((s, r) => s + r.applied, 0)).toBe(total);
      const check = createPool(fresh.url, { max: 1 });
      const { rows } = await check.query(
        "select count(*)::int as n from drizzle.__drizzle_migrations",
      );
      await check.end();
      expect(rows[0].n).toBe(total);
    } finally {
      await fresh.drop();
    }
  });
});

async function createEmptyDatabase() {
  const { randomBytes } = await import("node:crypto");
  const pg = (await import("pg")).default;
  const { inject } = await import("vitest");
  const { databaseUrlFor } = await import("../helpers/db.js");
  const name = `vr_e_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: inject("databaseUrl") });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: databaseUrlFor(name),
    async drop() {
      const a = new pg.Client({ connectionString: inject("databaseUrl") });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
