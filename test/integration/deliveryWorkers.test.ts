/**
 * Delivery by several worker processes (`voice-receipts run --role worker`) sharing one outbox:
 * each event is sent by one of them, and nothing is lost when they are SIGKILLed in the middle of
 * its deliveries (an event it had sent but not recorded is sent again, with the same
 * webhook-id and payload). Signatures verified with standardwebhooks by a real receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { NewEvent } from "../../src/domain/outcomeEvents.js";
import { processEnv } from "../helpers/cli.js";
import { killHard, spawnDaemon, type DaemonProcess } from "../helpers/daemons.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { emitCommitted, expectInCallOrder, recordingEvents } from "../helpers/outbox.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";
import {
  newSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../helpers/webhookReceiver.js";

let db: TestDatabase;
let receiver: WebhookReceiver;
const prefix = randomPrefix();
const secret = newSecret();
const procs: DaemonProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startWebhookReceiver(secret, { slowMs: 1500 });
});
afterAll(async () => {
  await Promise.all(procs.map((p) => killHard(p)));
  await receiver?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

async function worker(): Promise<DaemonProcess> {
  const p = await spawnDaemon(
    "worker",
    processEnv(db.url, prefix, {
      VMS_WEBHOOK_URLS: receiver.url,
      VMS_WEBHOOK_SECRET: secret,
      VMS_WEBHOOK_TIMEOUT_MS: "3000",
      VMS_WEBHOOK_RETRY_SCHEDULE: "0s,500ms,500ms,1s,1s,2s,5s,10s",
      VMS_WEBHOOK_CONCURRENCY: "4",
    }),
  );
  procs.push(p);
  return p;
}

const events = recordingEvents("920000000000");
const emit = (list: NewEvent[]) => emitCommitted(db.pool, list);
const count = (id: string) => receiver.received.filter((r) => r.id === id).length;
const inCallOrder = (list: NewEvent[]) =>
  expectInCallOrder(
    receiver.received.map((r) => r.id),
    list,
  );

// The waits below allow 60 s each on a loaded machine; the tests must outlive them (default 30 s).
describe("several worker processes", { timeout: 150_000 }, () => {
  it("share the outbox: every event sent exactly once", async () => {
    await receiver.setMode("ok");
    await Promise.all([worker(), worker()]);
    const list = events(10, 3);
    await emit(list);
    await waitFor(() => list.every((e) => count(e.id) >= 1), {
      what: "all delivered",
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 1000));
    for (const e of list) {
      expect(count(e.id), e.id).toBe(1);
    }
    expect(receiver.rejected).toEqual([]);
    inCallOrder(list);
  });

  it("lose nothing when they are SIGKILLed mid-delivery; a duplicate has the same webhook-id and payload", async () => {
    const before = receiver.received.length;
    // Requests are received (and recorded by the receiver) but answered only 1.5 s later, so
    // the killed worker dies with sends in flight whose outcome it never recorded.
    await receiver.setMode("slow");
    const list = events(8, 3);
    await emit(list);
    await waitFor(() => receiver.received.length - before >= 4, { what: "sends in flight" });
    await Promise.all(procs.map((p) => killHard(p)));
    const replacement = await worker();
    await receiver.setMode("ok");
    await waitFor(() => list.every((e) => count(e.id) >= 1), {
      what: "all delivered after the kill",
      timeoutMs: 60_000,
    });
    // A copy the receiver got from the killed worker leaves its row pending until the lease
    // lapses and the replacement sends it again: every row must end delivered, none pending.
    const pending = async () =>
      (
        await db.pool.query<{ n: number }>(
          "select count(*)::int as n from deliveries where event_id = any($1) and status = 'pending'",
          [list.map((e) => e.id)],
        )
      ).rows[0]?.n;
    await waitFor(async () => (await pending()) === 0, {
      what: "no delivery left pending",
      timeoutMs: 60_000,
    });
    expect(await pending()).toBe(0);
    for (const e of list) {
      const copies = receiver.received.filter((r) => r.id === e.id);
      expect(copies.length).toBeGreaterThanOrEqual(1);
      for (const c of copies) {
        expect(c.payload).toEqual(e.payload);
      }
    }
    // Some event was in flight when the workers died: sent again after its lease expired.
    expect(list.some((e) => count(e.id) > 1)).toBe(true);
    expect(receiver.rejected).toEqual([]);
    inCallOrder(list);
    expect(replacement.out()).toContain("outcome delivery started");
  });
});
