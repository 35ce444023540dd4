/**
 * A call-level outcome event lists the call's recordings, with our copy's location only once it
 * is stored (src/store/events/callEvents.ts), written to the outbox in the caller's transaction.
 */
import { afterAll, beforeAll, expect, it } from "vitest";

import { emitCallsCompleted, emitReconcileOutcomes } from "../../src/store/events/callEvents.js";
import { inTransaction } from "../../src/store/transaction.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const CALL = "100000000077^200000000077";
const URL_A = "https://rec.oss-cn-hangzhou.aliyuncs.com/a.wav?Expires=1900000000&Signature=a";
const URL_B = "https://rec.oss-cn-hangzhou.aliyuncs.com/b.wav?Expires=1900000000&Signature=b";

it("lists every recording of the call, the stored one with its location", async () => {
  await db.pool.query(
    `insert into calls (call_id, direction, status_code, report_received_at)
     values ($1, 'outbound', '200000', now())`,
    [CALL],
  );
  await db.pool.query(
    `insert into recordings (call_id, record_file, body, fetch_status, storage_key)
     values ($1, $2, '{}', 'stored', '2026/11/20/a.wav'), ($1, $3, '{}', 'pending', null)`,
    [CALL, URL_A, URL_B],
  );
  await inTransaction(db.pool, async (client) => {
    expect(await emitCallsCompleted(client, [CALL])).toBe(1);
    expect(await emitReconcileOutcomes(client, "call.not_found", [{ callId: CALL }])).toBe(1);
  });
  const { rows } = await db.pool.query<{ type: string; recordings: unknown }>(
    `select type, payload->'data'->'call'->'recordings' as recordings from events
      where call_id = $1 order by seq`,
    [CALL],
  );
  const expected = [
    { record_file: URL_A, location: "2026/11/20/a.wav" },
    { record_file: URL_B, location: null },
  ];
  expect(rows).toEqual([
    { type: "call.completed", recordings: expected },
    { type: "call.not_found", recordings: expected },
  ]);
});
