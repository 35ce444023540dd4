import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("the voice-receipts command", () => {
  it("lists every contract command in --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["run", "migrate", "replay", "report", "simulate", "demo"]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, "m"));
    }
  });

  it("exits 2 naming the variable when VMS_RECONCILE_QPS=abc", async () => {
    const r = await runCli(["run"], { VMS_RECONCILE_QPS: "abc", DATABASE_URL: db.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("VMS_RECONCILE_QPS");
    expect(r.stderr).toMatch(/whole number from 1 to 100/);
  });

  it("exits 2 on an unknown role", async () => {
    const r = await runCli(["run", "--role", "boss"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role/);
  });

  it("exits 2 on an unknown command", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
  });

  it("applies migrations with `migrate` and reports an up-to-date database the second time", async () => {
    const first = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("database already up to date"); // the clone is pre-migrated
    const { rows } = await db.pool.query(
      "select count(*)::int as n from information_schema.tables where table_name = 'calls'",
    );
    expect(rows[0].n).toBe(1);
  });

  it("exits 1 with a clear message when PostgreSQL is unreachable", async () => {
    const r = await runCli(["migrate"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED|connect/);
  });
});
