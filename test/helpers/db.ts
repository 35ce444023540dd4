/**
 * A PostgreSQL database per test file, cloned from the migrated template (global-setup.ts).
 * Dropped again by `drop()`; a failed test's database is still dropped (they are cheap to make).
 */
import { randomBytes } from "node:crypto";

import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export function databaseUrlFor(name: string): string {
  const u = new URL(inject("databaseUrl"));
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `vr_t_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: inject("databaseUrl") });
  await admin.connect();
  try {
    // Two files cloning at the same instant can see "source database is being accessed".
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${inject("templateDatabase")}`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) {
          throw err;
        }
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = databaseUrlFor(name);
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  pool.on("error", () => {});
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const a = new pg.Client({ connectionString: inject("databaseUrl") });
      await a.connect();
      try {
        await a.query(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
