/**
 * Every query of the call explorer is bounded by an index: EXPLAIN (format json) of each search,
 * the call page's reads, the rejected-receipt list and counts, and the hourly overview shows no
 * Seq Scan of calls, of a receipts, call_events, events or deliveries partition, or of
 * recordings, dialogue_turns or rejected_receipts (an empty partition, such as next month's, reads nothing and is let be).
 *
 * The plans are those of a table of realistic size: the rows are made in bulk with
 * generate_series (a planner test; pushing 40 000 receipts through the pipeline would take
 * minutes on the CI machine and tell the planner nothing more), then ANALYZEd. On a table of a
 * few rows any plan is a Seq Scan, so the sizes matter, not the values.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { formatBeijingDate } from "../../../src/domain/time.js";
import { CALL_QUERIES } from "../../../src/store/explorer/callPage.js";
import { STORED_RECORDING_QUERY } from "../../../src/store/explorer/storedRecording.js";
import { buildCallSearch, type CallSearch } from "../../../src/store/explorer/callSearch.js";
import { HOURLY_QUERY } from "../../../src/store/explorer/hourly.js";
import { buildRejectedByReason, buildRejectedList } from "../../../src/store/explorer/rejected.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";

const CALLS = 40_000;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`
    insert into calls (call_id, direction, out_id, caller, callee, status_code, start_time, end_time,
                       duration_seconds, reconcile_status, prod_id, created_at)
    select lpad(i::text, 12, '1') || '^' || lpad(i::text, 12, '2'),
           case when i % 10 = 0 then 'inbound' else 'outbound' end,
           case when i % 7 = 0 then 'ALICOM_SMART_SAAS^' || (i % 50) || '^' || i else 'order-' || i end,
           '0571' || lpad((i % 9000)::text, 7, '0'),
           '138' || lpad(i::text, 8, '0'),
           (array['200000','200001','200002','200003','200005'])[1 + i % 5],
           now() - i * interval '37 seconds',
           now() - i * interval '37 seconds' + interval '20 seconds',
           20,
           (array['reconciled','reconciled','reconciled','pending','not_found','skipped'])[1 + i % 6],
           (array['11000000300006','11010000138001','11000000300005','11030000180001'])[1 + i % 4],
           now() - i * interval '37 seconds'
      from generate_series(1, ${CALLS}) i;
    insert into receipts (dedup_key, message_type, source, call_id, body, received_at, receipt_time)
    select 'k' || i || '-' || j, 'VoiceCallReport', 'http',
           lpad(i::text, 12, '1') || '^' || lpad(i::text, 12, '2'), '{}',
           now() - i * interval '37 seconds', now() - i * interval '37 seconds'
      from generate_series(1, ${CALLS}) i, generate_series(1, 2) j;
    insert into call_events (call_id, status_code, status_time, body)
    select lpad(i::text, 12, '1') || '^' || lpad(i::text, 12, '2'), c, now() - i * interval '37 seconds', '{}'
      from generate_series(1, ${CALLS}) i, unnest(array['200101','200201','200100']) c;
    insert into recordings (call_id, record_file, body)
    select lpad(i::text, 12, '1') || '^' || lpad(i::text, 12, '2'), 'http://r/' || i || '.wav', '{}'
      from generate_series(1, ${CALLS}, 3) i;
    insert into dialogue_turns (call_id, turn_time, role, content_type, content, body)
    select lpad(i::text, 12, '1') || '^' || lpad(i::text, 12, '2'), now() - i * interval '37 seconds',
           'user', 'asr', '{}', '{}'
      from generate_series(1, ${CALLS}, 7) i;
    insert into events (id, type, call_id, payload, occurred_at)
    select 'evt_' || i || '_' || t, t, lpad(i::text, 12, '1') || '^' || lpad(i::text, 12, '2'), '{}',
           now() - i * interval '37 seconds'
      from generate_series(1, ${CALLS}) i, unnest(array['call.completed','call.reconciled']) t;
    insert into deliveries (event_id, event_seq, event_occurred_at, event_type, call_id, endpoint,
                            attempt, status, due_at, created_at)
    select e.id, e.seq, e.occurred_at, e.type, e.call_id, 'http://hooks.example/' || k, 1,
           'delivered', e.occurred_at, e.occurred_at
      from events e, generate_series(1, 2) k;
    insert into rejected_receipts (fingerprint, source, raw, reason, received_at)
    select 'f' || i, 'http', 'raw ' || i, 'reason ' || (i % 40), now() - i * interval '11 seconds'
      from generate_series(1, ${CALLS}) i;
    analyze;`);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

const GUARDED =
  /^(calls|receipts.*|call_events.*|recordings|dialogue_turns|rejected_receipts|events.*|deliveries.*)$/;

async function seqScans(q: { text: string; values: unknown[] }): Promise<string[]> {
  const { rows } = await db.pool.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
    `explain (format json) ${q.text}`,
    q.values,
  );
  const found: string[] = [];
  const walk = (n: PlanNode) => {
    if (n["Node Type"] === "Seq Scan" && GUARDED.test(n["Relation Name"] ?? "")) {
      found.push(n["Relation Name"]!);
    }
    n.Plans?.forEach(walk);
  };
  walk(rows[0]!["QUERY PLAN"][0].Plan);
  // Reading an empty partition (next month's, the default one) reads nothing: not a finding.
  const nonEmpty: string[] = [];
  for (const rel of found) {
    const { rows: r } = await db.pool.query<{ some: boolean }>(
      `select exists (select 1 from only ${rel}) as some`,
    );
    if (r[0]?.some) {
      nonEmpty.push(rel);
    }
  }
  return nonEmpty;
}

const today = formatBeijingDate(new Date());
const yesterday = formatBeijingDate(new Date(Date.now() - 86_400_000));
const cursor = { time: new Date(Date.now() - 3600_000).toISOString(), callId: "5^5" };

const SEARCHES: [string, CallSearch, boolean][] = [
  ["newest calls", {}, false],
  ["the next page", {}, true],
  ["call_id", { callId: "111111111234^222222221234" }, false],
  ["out_id prefix", { outIdPrefix: "order-123" }, false],
  ["robot out_id prefix, paged", { outIdPrefix: "ALICOM_SMART_SAAS^7^" }, true],
  ["last four digits", { number: "1234" }, false],
  ["full number", { number: "13800012345" }, false],
  ["day range", { fromDay: yesterday, toDay: today }, false],
  ["direction", { direction: "inbound" }, false],
  ["product", { product: "verification" }, true],
  ["status", { status: "200003" }, false],
  ["no result yet", { status: "none" }, false],
  ["a status no call has", { status: "999999" }, true],
  ["inbound, paged", { direction: "inbound" }, true],
  ["reconcile state", { reconcile: "not_found" }, false],
  [
    "everything at once",
    {
      outIdPrefix: "order-",
      number: "5678",
      fromDay: yesterday,
      toDay: today,
      direction: "outbound",
      product: "notification",
      status: "200000",
      reconcile: "reconciled",
    },
    true,
  ],
];

describe("the call explorer's queries are bounded by indexes", () => {
  it.each(SEARCHES)("search: %s", async (_name, search, paged) => {
    expect(await seqScans(buildCallSearch(search, paged ? cursor : undefined, 51))).toEqual([]);
  });

  it.each(Object.entries(CALL_QUERIES))("call page: %s", async (_name, text) => {
    expect(await seqScans({ text, values: ["111111111234^222222221234"] })).toEqual([]);
  });

  it("the player's recording: by id and call", async () => {
    const values = ["4", "111111111234^222222221234"];
    expect(await seqScans({ text: STORED_RECORDING_QUERY, values })).toEqual([]);
  });

  it("rejected receipts: newest, of one reason, in days, paged; counts per reason", async () => {
    const after = { receivedAt: new Date(Date.now() - 3600_000).toISOString(), id: "100" };
    for (const q of [
      buildRejectedList({}, undefined, 51),
      buildRejectedList({ reason: "reason 7" }, undefined, 51),
      buildRejectedList({ reason: "reason 7", fromDay: yesterday, toDay: today }, after, 51),
      buildRejectedList({ fromDay: today }, after, 51),
      buildRejectedByReason({ fromDay: today, toDay: today }),
    ]) {
      expect(await seqScans(q), q.text).toEqual([]);
    }
  });

  it("overview: calls per hour of a day", async () => {
    expect(await seqScans({ text: HOURLY_QUERY, values: [today] })).toEqual([]);
  });

  it("the check itself finds a Seq Scan when no index serves", async () => {
    expect(await seqScans({ text: "select * from calls where dtmf = $1", values: ["1"] })).toEqual([
      "calls",
    ]);
  });
});
