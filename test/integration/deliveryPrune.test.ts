/**
 * `events` and `deliveries` month partitions are pruned with the others, except a month with a
 * delivery still pending (its event would be lost before it reached the endpoint).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { prunePartitions } from "../../src/store/partitions.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const exists = async (name: string) =>
  (await db.pool.query<{ r: string | null }>("select to_regclass($1)::text as r", [name])).rows[0]
    ?.r === name;

describe("prune of events and deliveries", () => {
  it("keeps a month with a pending delivery, drops it once nothing is pending", async () => {
    for (const t of ["events", "deliveries"]) {
      await db.pool.query("select vr_create_month_partition($1, '2025-01-01')", [t]);
    }
    const at = "2025-01-15 10:00:00+08";
    await db.pool.query(
      `insert into events (id, type, occurred_at, call_id, payload, fanned_out_at)
       values ('evt_old_1', 'call.completed', $1, 'c1', '{}', $1),
              ('evt_old_2', 'call.completed', $1, 'c2', '{}', $1)`,
      [at],
    );
    await db.pool.query(
      `insert into deliveries (created_at, event_id, event_seq, event_occurred_at, event_type,
                               call_id, endpoint, attempt, status, due_at)
       select $1, id, seq, occurred_at, type, call_id, 'https://x.example/h', 1,
              case when id = 'evt_old_1' then 'dead' else 'pending' end, $1
         from events where id like 'evt_old_%'`,
      [at],
    );
    const cutoff = new Date("2025-06-01T00:00:00+08:00");
    const first = await prunePartitions(db.pool, { cutoff });
    expect(first.refused.map((p) => [p.name, p.unprocessed]).sort()).toEqual([
      ["deliveries_p2025_01", 1],
      ["events_p2025_01", 1],
    ]);
    expect(await exists("events_p2025_01")).toBe(true);
    expect(await exists("deliveries_p2025_01")).toBe(true);

    await db.pool.query("update deliveries set status = 'delivered' where status = 'pending'");
    const second = await prunePartitions(db.pool, { cutoff });
    expect(second.dropped.map((p) => p.name).sort()).toEqual([
      "deliveries_p2025_01",
      "events_p2025_01",
    ]);
    expect(await exists("events_p2025_01")).toBe(false);
    expect(await exists("deliveries_p2025_01")).toBe(false);
    // Current months are untouched.
    const { rows } = await db.pool.query<{ n: number }>(
      "select count(*)::int as n from pg_inherits where inhparent = 'events'::regclass",
    );
    expect(rows[0]?.n).toBeGreaterThanOrEqual(4);
  });
});
