/**
 * Outcome delivery against a real HTTP receiver that verifies every signature with the
 * standardwebhooks library: events written to the outbox in a transaction (as the stores do)
 * are delivered exactly once when the receiver answers 2xx, and still delivered after it
 * answered 500, hung past the timeout, or was down; in order per call; dead after the last
 * attempt; announced to a LISTEN client on commit, and not at all when rolled back.
 */
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import type { NewEvent } from "../../src/domain/outcomeEvents.js";
import { emitEvents } from "../../src/store/events/emit.js";
import type { TestDatabase } from "../helpers/db.js";
import {
  emitCommitted,
  expectInCallOrder,
  recordingEvents,
  startDeliveryWorker,
  type DeliveryWorker,
} from "../helpers/outbox.js";
import { waitFor } from "../helpers/waitFor.js";
import type { WebhookReceiver } from "../helpers/webhookReceiver.js";

let db: TestDatabase;
let receiver: WebhookReceiver;
let worker: DeliveryWorker | undefined;
// Two quick retries, then a tail long enough for a test to heal the receiver before "dead".
const SCHEDULE = ["0s", "200ms", "200ms", "1s", "2s", "3s"];

beforeAll(async () => {
  worker = await startDeliveryWorker({
    VMS_WEBHOOK_TIMEOUT_MS: "500",
    VMS_WEBHOOK_RETRY_SCHEDULE: SCHEDULE.join(","),
  });
  ({ db, receiver } = worker);
});
afterAll(() => worker?.stop());
beforeEach(async () => {
  await receiver.setMode("ok");
});

/** Events of `calls` new calls, `perCall` each, alternately recording.stored and .expired. */
const nextEvents = recordingEvents("900000000000");
const events = (calls: number, perCall: number) =>
  nextEvents(calls, perCall, (i) => (i % 2 === 0 ? "recording.stored" : "recording.expired"));
const emit = (list: NewEvent[]) => emitCommitted(db.pool, list);

const idsOf = (list: { id: string }[]) => list.map((e) => e.id);
const receivedIds = () => idsOf(receiver.received);
const inCallOrder = (list: NewEvent[]) => expectInCallOrder(receivedIds(), list);

async function statuses(ids: string[]): Promise<Record<string, string[]>> {
  const { rows } = await db.pool.query<{ event_id: string; status: string }>(
    "select event_id, status from deliveries where event_id = any($1) order by id",
    [ids],
  );
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    (out[r.event_id] ??= []).push(r.status);
  }
  return out;
}

describe("webhook delivery", () => {
  it("delivers every event exactly once, signed, in order per call, to a receiver answering 2xx", async () => {
    const list = events(3, 4);
    await emit(list);
    await waitFor(() => list.every((e) => receivedIds().includes(e.id)), { what: "all delivered" });
    // Settle: nothing more arrives for these events.
    await new Promise((r) => setTimeout(r, 500));
    const got = receivedIds().filter((id) => idsOf(list).includes(id));
    expect(got.sort()).toEqual(idsOf(list).sort());
    expect(receiver.rejected).toEqual([]);
    inCallOrder(list);
    const byId = new Map(receiver.received.map((r) => [r.id, r]));
    for (const e of list) {
      expect(byId.get(e.id)?.payload).toEqual(e.payload);
    }
    const s = await statuses(idsOf(list));
    expect(Object.values(s).every((v) => v.join() === "delivered")).toBe(true);
  });

  for (const mode of ["fail", "hang", "down"] as const) {
    it(`delivers after the receiver ${mode === "fail" ? "answered 500" : mode === "hang" ? "hung past the timeout" : "was down"}`, async () => {
      await receiver.setMode(mode);
      const before = receiver.attempts;
      const list = events(1, 2);
      await emit(list);
      // At least two failed attempts of the first event are recorded before the receiver heals.
      await waitFor(
        async () =>
          ((await statuses([list[0]!.id]))[list[0]!.id] ?? []).filter((s) => s === "failed")
            .length >= 2,
        { what: "two failed attempts" },
      );
      expect(receivedIds().some((id) => idsOf(list).includes(id))).toBe(false);
      if (mode !== "down") {
        expect(receiver.attempts).toBeGreaterThan(before);
      }
      await receiver.setMode("ok");
      await waitFor(() => list.every((e) => receivedIds().includes(e.id)), {
        what: "delivered after recovery",
      });
      inCallOrder(list);
      const { rows } = await db.pool.query<{
        status: string;
        http_status: number | null;
        error: string | null;
      }>(
        "select status, http_status, error from deliveries where event_id = $1 and status = 'failed' limit 1",
        [list[0]!.id],
      );
      const failed = rows[0]!;
      if (mode === "fail") {
        expect(failed.http_status).toBe(500);
      } else if (mode === "hang") {
        expect(failed.error).toMatch(/no answer within 500 ms/);
      } else {
        expect(failed.error).toMatch(/ECONNREFUSED/);
      }
    });
  }

  it("gives an event up as dead after the last attempt, keeps it, and goes on with the call's next events", async () => {
    await receiver.setMode("fail");
    const list = events(1, 2);
    await emit([list[0]!]);
    await waitFor(
      async () => ((await statuses([list[0]!.id]))[list[0]!.id] ?? []).includes("dead"),
      { what: "dead", timeoutMs: 30_000 },
    );
    const s = (await statuses([list[0]!.id]))[list[0]!.id];
    expect(s).toEqual([...SCHEDULE.slice(1).map(() => "failed"), "dead"]);
    await receiver.setMode("ok");
    await emit([list[1]!]);
    await waitFor(() => receivedIds().includes(list[1]!.id), { what: "next event" });
    expect(receivedIds()).not.toContain(list[0]!.id);
    const { rows } = await db.pool.query("select 1 from events where id = $1", [list[0]!.id]);
    expect(rows).toHaveLength(1);
  });
});

describe("LISTEN voice_receipts_events", () => {
  it("announces each event id when its transaction commits, and nothing for a rollback", async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on("notification", (m) => heard.push(m.payload ?? ""));
    await listener.query("listen voice_receipts_events");
    try {
      const rolledBack = events(1, 2);
      const client = await db.pool.connect();
      try {
        await client.query("begin");
        await emitEvents(client, rolledBack);
        await client.query("rollback");
      } finally {
        client.release();
      }
      const list = events(2, 2);
      const tx = await db.pool.connect();
      try {
        await tx.query("begin");
        await emitEvents(tx, list);
        await new Promise((r) => setTimeout(r, 200));
        expect(heard).toEqual([]);
        await tx.query("commit");
      } finally {
        tx.release();
      }
      await waitFor(() => heard.length >= list.length, { what: "notifications" });
      expect(heard).toEqual(idsOf(list));
      const { rows } = await db.pool.query("select 1 from events where id = any($1)", [
        idsOf(rolledBack),
      ]);
      expect(rows).toHaveLength(0);
    } finally {
      await listener.end();
    }
  });
});
