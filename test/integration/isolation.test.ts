/**
 * Whatever slips past validation and is refused by PostgreSQL fails only itself: at intake (the
 * push still answers 200, the refused row is quarantined with PostgreSQL's message and SQLSTATE)
 * and in the persist worker (the culprit is dead-lettered, its job-mates applied, nothing left
 * for the sweeper to regroup). The refusals are real: CHECK constraints added to the test's
 * own database stand for "a value validation did not foresee".
 */
import { afterAll, beforeAll, expect, it } from "vitest";

import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let t: TestApp;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(
    "alter table receipts add constraint test_poison_intake check (body->>'status_msg' is distinct from 'poison-intake')",
  );
  await db.pool.query(
    "alter table calls add constraint test_poison_persist check (out_id is distinct from 'poison-persist')",
  );
  t = await startTestApp({ databaseUrl: db.url, prefix });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

let seq = 0;
const receipt = (extra: Record<string, unknown> = {}) => ({
  call_id: `55${++seq}^${seq}`,
  status_code: "200000",
  end_time: "2026-11-25 10:00:10",
  ...extra,
});

async function push(items: unknown[]): Promise<number> {
  const res = await fetch(`${t.url}/push/VoiceReport`, {
    method: "POST",
    body: JSON.stringify(items),
  });
  return res.status;
}

async function appliedCalls(ids: string[]): Promise<boolean> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from calls where call_id = any($1) and report_received_at is not null",
    [ids],
  );
  return rows[0]?.n === ids.length;
}

it("intake: a row PostgreSQL refuses is quarantined with its SQLSTATE; the push is 200", async () => {
  const items = [receipt(), receipt(), receipt({ status_msg: "poison-intake" }), receipt()];
  expect(await push(items)).toBe(200);
  const good = [items[0], items[1], items[3]].map((r) => String(r?.call_id));
  await waitFor(() => appliedCalls(good), { what: "neighbours applied", timeoutMs: 30_000 });
  const { rows } = await db.pool.query<{ reason: string; location: string }>(
    "select reason, location from rejected_receipts where reason like '%test_poison_intake%'",
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]?.reason).toMatch(/^PostgreSQL refused it: .*\(SQLSTATE 23514\)$/);
  expect(rows[0]?.location).toBe("push#2");
});

it("persist: the culprit is dead-lettered alone, its batch-mates applied, nothing left unprocessed", async () => {
  const items = [receipt(), receipt({ out_id: "poison-persist" }), receipt(), receipt()];
  expect(await push(items)).toBe(200);
  const good = [items[0], items[2], items[3]].map((r) => String(r?.call_id));
  await waitFor(() => appliedCalls(good), { what: "batch-mates applied", timeoutMs: 30_000 });
  const culprit = String(items[1]?.call_id);
  await waitFor(
    async () => {
      const { rows } = await db.pool.query<{ error: string | null }>(
        "select error from receipts where call_id = $1 and processed_at is not null",
        [culprit],
      );
      return rows[0]?.error?.includes("SQLSTATE 23514");
    },
    { what: "culprit dead-lettered", timeoutMs: 30_000 },
  );
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from rejected_receipts where reason like '%test_poison_persist%'",
  );
  expect(rows[0]?.n).toBe(1);
  const left = await db.pool.query("select 1 from receipts where processed_at is null");
  expect(left.rows).toHaveLength(0);
});
