/**
 * `deliveries replay`, `deliveries list` and `deliveries resume` against a running worker and a
 * real receiver (signatures verified with standardwebhooks): a replay by time range re-sends
 * exactly the events of that range with their original webhook-id; an endpoint failing for
 * VMS_WEBHOOK_PAUSE_AFTER is paused loudly, keeps its events, and delivers them once resumed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listCommand, replayCommand, resumeCommand } from "../../src/cli/deliveries.js";
import type { NewEvent } from "../../src/domain/outcomeEvents.js";
import type { TestApp } from "../helpers/app.js";
import type { TestDatabase } from "../helpers/db.js";
import {
  emitCommitted,
  recordingEvents,
  startDeliveryWorker,
  type DeliveryWorker,
} from "../helpers/outbox.js";
import { waitFor } from "../helpers/waitFor.js";
import type { WebhookReceiver } from "../helpers/webhookReceiver.js";

let db: TestDatabase;
let app: TestApp;
let receiver: WebhookReceiver;
let env: Record<string, string>;
let worker: DeliveryWorker | undefined;

beforeAll(async () => {
  worker = await startDeliveryWorker({
    VMS_WEBHOOK_TIMEOUT_MS: "500",
    // Many quick attempts: the endpoint is paused (after 1 s of failures) long before "dead".
    VMS_WEBHOOK_RETRY_SCHEDULE: ["0s", ...Array.from({ length: 40 }, () => "300ms")].join(","),
    VMS_WEBHOOK_PAUSE_AFTER: "1s",
  });
  ({ db, app, receiver, env } = worker);
});
afterAll(() => worker?.stop());

const newEvents = recordingEvents("910000000000");
/** `count` events, each of a new call. */
const batch = (count: number) => newEvents(count, 1);
/** Emits in one transaction; answers its time. */
const emit = (list: NewEvent[]) => emitCommitted(db.pool, list);

const ids = (l: { id: string }[]) => l.map((e) => e.id);
const times = (id: string) => receiver.received.filter((r) => r.id === id).length;
const settled = (list: NewEvent[]) => () => list.every((e) => times(e.id) >= 1);

describe("deliveries replay", () => {
  it("re-sends exactly the events of the time range, with their original webhook-id", async () => {
    const a = batch(3);
    const b = batch(4);
    const c = batch(2);
    await emit(a);
    const since = new Date((await db.pool.query("select now() as t")).rows[0].t);
    await emit(b);
    const until = new Date((await db.pool.query("select now() as t")).rows[0].t);
    await emit(c);
    await waitFor(settled([...a, ...b, ...c]), { what: "first delivery" });

    let out = "";
    await replayCommand({ since, until }, { env, out: (t) => (out += t) });
    expect(out).toMatch(/queued 4 deliveries of 4 events/);
    await waitFor(() => b.every((e) => times(e.id) === 2), { what: "replayed" });
    await new Promise((r) => setTimeout(r, 500));
    for (const e of [...a, ...c]) {
      expect(times(e.id), e.id).toBe(1);
    }
    for (const e of b) {
      expect(times(e.id), e.id).toBe(2);
    }
    expect(receiver.rejected).toEqual([]);

    // --type filters too: nothing of another type in the range.
    out = "";
    await replayCommand({ since, until, type: "call.completed" }, { env, out: (t) => (out += t) });
    expect(out).toMatch(/queued 0 deliveries of 0 events/);
  });
});

describe("pause and resume", () => {
  it("pauses an endpoint that failed everything for VMS_WEBHOOK_PAUSE_AFTER, loudly, and resumes it", async () => {
    await receiver.setMode("fail");
    const list = batch(3);
    await emit(list);
    await waitFor(() => app.logs().includes("webhook endpoint PAUSED"), {
      what: "paused",
      timeoutMs: 20_000,
    });
    const metrics = await app.app.metrics.registry.metrics();
    await waitFor(
      async () =>
        /voice_receipts_webhook_paused\{endpoint="http:\/\/127\.0\.0\.1:\d+\/hooks"\} 1/.test(
          await app.app.metrics.registry.metrics(),
        ),
      { what: "paused gauge" },
    );
    expect(metrics).toMatch(/voice_receipts_webhook_failed_total\{endpoint=/);
    // Paused: no more attempts, even with the receiver healthy again.
    await receiver.setMode("ok");
    const attempts = receiver.attempts;
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.attempts).toBe(attempts);
    expect(ids(receiver.received).filter((id) => ids(list).includes(id))).toEqual([]);

    let out = "";
    await listCommand(
      { status: "pending", limit: 100, format: "json" },
      { env, out: (t) => (out += t) },
    );
    const pending = JSON.parse(out) as { event_id: string; attempts: number }[];
    expect(pending.map((p) => p.event_id).sort()).toEqual(ids(list).sort());

    out = "";
    await resumeCommand(receiver.url, { env, out: (t) => (out += t) });
    expect(out).toMatch(/resumed .*: 3 pending deliveries are due now/);
    await waitFor(settled(list), { what: "delivered after resume" });

    out = "";
    await resumeCommand(receiver.url, { env, out: (t) => (out += t) });
    expect(out).toMatch(/is not paused/);
    out = "";
    await listCommand({ limit: 1000, format: "json" }, { env, out: (t) => (out += t) });
    const all = JSON.parse(out) as { event_id: string; status: string }[];
    expect(all.filter((r) => ids(list).includes(r.event_id)).map((r) => r.status)).toEqual([
      "delivered",
      "delivered",
      "delivered",
    ]);
  });
});
