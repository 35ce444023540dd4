/**
 * The recording fetcher's claim (src/store/recordings/fetchQueue.ts) against real PostgreSQL:
 * which rows it hands out, in which order, never two rows of one recording at once, and that it
 * walks migration 0012's index instead of sorting every due row (docs/benchmarks.md, "The
 * persist regression").
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";

import {
  adoptStoredSiblings,
  CLAIM_DUE_SQL,
  claimDue,
  type ClaimFilter,
} from "../../../src/store/recordings/fetchQueue.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query("truncate recordings");
});

const LEASE_MS = 60_000;

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Actual Rows": number;
  Plans?: PlanNode[];
}

/** A recordings row; `expires` in hours from now (the URL's Expires), `dueIn` in seconds. */
async function add(
  callId: string,
  name: string,
  o: { expires: number; sig?: string; dueIn?: number; status?: string; receivedAgoH?: number },
): Promise<number> {
  const expires = Math.floor(Date.now() / 1000) + o.expires * 3600;
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into recordings (call_id, record_file, body, fetch_status, fetch_next_at, received_at,
                             storage_key)
     values ($1, $2, '{}', $3, now() + $4 * interval '1 second',
             now() - $5 * interval '1 hour', case when $3 = 'stored' then 'k/' || $1 end)
     returning id`,
    [
      callId,
      `https://rec.oss-cn-hangzhou.aliyuncs.com/${name}.wav?Expires=${expires}&Signature=${o.sig ?? "a"}`,
      o.status ?? "pending",
      o.dueIn ?? -1,
      o.receivedAgoH ?? 0,
    ],
  );
  return Number(rows[0]?.id);
}

const claim = async (limit: number, filter: ClaimFilter = {}) =>
  (await claimDue(db.pool, limit, LEASE_MS, filter)).map((c) => c.id);

it("claims due rows closest link expiry first, up to the limit, and leases them", async () => {
  const late = await add("c1", "r1", { expires: 48 });
  const soon = await add("c2", "r2", { expires: 2 });
  const mid = await add("c3", "r3", { expires: 24 });
  await add("c4", "r4", { expires: 1, dueIn: 600 }); // waiting out a retry
  await add("c5", "r5", { expires: 1, status: "failed" });
  expect(await claim(2)).toEqual([soon, mid]);
  expect(await claim(5)).toEqual([late]);
  expect(await claim(5)).toEqual([]);
  const { rows } = await db.pool.query<{ id: string; attempts: number; leased: boolean }>(
    `select id, fetch_attempts as attempts, fetch_next_at > now() + interval '50 seconds' as leased
       from recordings where id = any($1::bigint[]) order by id`,
    [[late, soon, mid]],
  );
  expect(rows.every((r) => r.attempts === 1 && r.leased)).toBe(true);
});

it("hands out one row per recording: the freshest link, none while another is leased", async () => {
  // Three rows of one recording (redeliveries with freshly signed URLs), one of another call.
  const old = await add("c1", "r1", { expires: 5, sig: "old" });
  const fresh = await add("c1", "r1", { expires: 30, sig: "fresh" });
  const tie = await add("c1", "r1", { expires: 30, sig: "tie" });
  const other = await add("c2", "r1", { expires: 10 });
  // The freshest link wins (ties: the lowest id), ordered by its own expiry.
  expect(await claim(10)).toEqual([other, fresh]);
  // While it is leased no other row of its recording is claimed.
  expect(await claim(10)).toEqual([]);
  // Lease lapsed (the process died): the same row again, not a sibling.
  await db.pool.query("update recordings set fetch_next_at = now() where id = $1", [fresh]);
  expect(await claim(10)).toEqual([fresh]);
  // It failed for good: the next freshest row of the recording takes over.
  await db.pool.query(
    "update recordings set fetch_status = 'failed' where id = any($1::bigint[])",
    [[fresh, other]],
  );
  expect(await claim(10)).toEqual([tie]);
  expect(old).toBeLessThan(fresh);
});

it("claims no row of a recording stored through another row; adoption stores it", async () => {
  const stored = await add("c1", "r1", { expires: 5, sig: "first", status: "stored" });
  const again = await add("c1", "r1", { expires: 30, sig: "again" });
  const alone = await add("c2", "r2", { expires: 40 });
  expect(await claim(10)).toEqual([alone]);
  expect(await adoptStoredSiblings(db.pool)).toBe(1);
  const { rows } = await db.pool.query<{ fetch_status: string; storage_key: string }>(
    "select fetch_status, storage_key from recordings where id = $1",
    [again],
  );
  expect(rows[0]).toEqual({ fetch_status: "stored", storage_key: "k/c1" });
  expect(stored).toBeLessThan(again);
});

it("with `since`, compares only with rows of the recording received since then", async () => {
  // The fresher link arrived before `since`: the drain for `since` still fetches the recording.
  await add("c1", "r1", { expires: 30, sig: "before", receivedAgoH: 5 });
  const recent = await add("c1", "r1", { expires: 5, sig: "recent" });
  await add("c2", "r2", { expires: 5, receivedAgoH: 5 });
  const since = new Date(Date.now() - 3_600_000);
  expect(await claim(10, { since })).toEqual([recent]);
  expect(await claim(10, { callId: "c2" })).toHaveLength(1);
});

it("two claims side by side never hand out the same recording twice", async () => {
  for (let n = 0; n < 40; n++) {
    await add(`c${n % 20}`, "r", { expires: 10 + n, sig: `s${n}` });
  }
  const claimed = (await Promise.all(Array.from({ length: 4 }, () => claim(8)))).flat();
  expect(claimed).toHaveLength(20);
  const { rows } = await db.pool.query<{ call_id: string }>(
    "select call_id from recordings where id = any($1::bigint[])",
    [claimed],
  );
  expect(new Set(rows.map((r) => r.call_id)).size).toBe(20);
});

it("walks the claim index and stops at the limit, whatever the backlog", async () => {
  await db.pool.query(
    `insert into recordings (call_id, record_file, body, fetch_next_at)
     select 'b' || n, 'https://rec.oss-cn-hangzhou.aliyuncs.com/' || n || '.wav?Expires='
              || (extract(epoch from now())::bigint + 3600 + n) || '&Signature=x',
            '{}', now() - interval '1 second'
       from generate_series(1, 5000) n`,
  );
  await db.pool.query("analyze recordings");
  // The claim itself, executed (EXPLAIN ANALYZE runs the update: four rows leased).
  const { rows } = await db.pool.query<{ "QUERY PLAN": unknown }>(
    `explain (analyze, format json) ${CLAIM_DUE_SQL}`,
    [4, LEASE_MS, null, null],
  );
  const nodes: PlanNode[] = [];
  const walk = (n: PlanNode) => {
    nodes.push(n);
    n.Plans?.forEach(walk);
  };
  walk((rows[0]?.["QUERY PLAN"] as { Plan: PlanNode }[])[0]?.Plan as PlanNode);
  expect(nodes.some((n) => n["Node Type"] === "Sort")).toBe(false);
  // The scan of the claim index reads the four rows it claims, not the 5,000 due.
  const scan = nodes.find((n) => n["Index Name"] === "recordings_fetch_claim_idx");
  expect(scan?.["Actual Rows"]).toBe(4);
  // claimDue then hands out the next four by expiry.
  const ids = await claim(4);
  const { rows: next } = await db.pool.query<{ id: string }>(
    `select id from recordings order by link_expires_at, id offset 4 limit 4`,
  );
  expect(ids).toEqual(next.map((r) => Number(r.id)));
});
