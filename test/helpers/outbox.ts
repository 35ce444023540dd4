/**
 * The outbox (`events`) as the delivery tests drive it: a delivering worker over a test database,
 * events emitted in one transaction as a store does, recording events made up for calls of
 * their own, and the per-call order check.
 */
import type pg from "pg";
import { expect } from "vitest";

import { recordingEvent, type NewEvent } from "../../src/domain/outcomeEvents.js";
import { emitEvents } from "../../src/store/events/emit.js";
import { startTestApp, type TestApp } from "./app.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { openInOrder } from "./openInOrder.js";
import { deleteKeysWithPrefix, randomPrefix } from "./redis.js";
import { newSecret, startWebhookReceiver, type WebhookReceiver } from "./webhookReceiver.js";

/** Emits in one transaction, as a store does; answers the transaction's time (`now()`). */
export async function emitCommitted(pool: pg.Pool, list: NewEvent[]): Promise<Date> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await emitEvents(client, list);
    const { rows } = await client.query<{ t: Date }>("select now() as t");
    await client.query("commit");
    return rows[0]!.t;
  } finally {
    client.release();
  }
}

type RecordingEventType = Parameters<typeof recordingEvent>[0];

/**
 * A source of recording events for calls no other test uses: the call ids are
 * `<callPrefix>^<counter>`, `callPrefix` distinct per test file.
 */
export function recordingEvents(callPrefix: string) {
  let n = 0;
  return (
    calls: number,
    perCall: number,
    typeOf: (i: number) => RecordingEventType = () => "recording.stored",
  ): NewEvent[] => {
    const out: NewEvent[] = [];
    for (let c = 0; c < calls; c++) {
      const callId = `${callPrefix}^${String(n++).padStart(12, "0")}`;
      for (let i = 0; i < perCall; i++) {
        out.push(recordingEvent(typeOf(i), { callId, outId: `out-${c}`, recordFile: `${i}.wav` }));
      }
    }
    return out;
  };
}

/** Per call, the ids received (first receipt of each) are in the order they were emitted. */
export function expectInCallOrder(receivedIds: readonly string[], list: NewEvent[]): void {
  const firstSeen = [...new Set(receivedIds)];
  for (const callId of new Set(list.map((e) => e.callId))) {
    const emitted = list.filter((e) => e.callId === callId).map((e) => e.id);
    expect(firstSeen.filter((id) => emitted.includes(id))).toEqual(emitted);
  }
}

export interface DeliveryWorker {
  db: TestDatabase;
  receiver: WebhookReceiver;
  app: TestApp;
  /** The worker's environment as a one-shot command would get it (database, webhook settings). */
  env: Record<string, string>;
  /** Stops the worker and the receiver, drops the database, removes the prefix's keys. */
  stop(): Promise<void>;
}

/**
 * A worker process's delivery (in-process, `role: worker`) over a test database, sending to a
 * real receiver that verifies every signature; it polls the outbox every 100 ms.
 */
export function startDeliveryWorker(more: Record<string, string>): Promise<DeliveryWorker> {
  return openInOrder(async (later) => {
    const prefix = later(randomPrefix(), deleteKeysWithPrefix);
    const db = later(await createTestDatabase(), (d) => d.drop());
    const secret = newSecret();
    const receiver = later(await startWebhookReceiver(secret), (r) => r.close());
    const env = {
      DATABASE_URL: db.url,
      VMS_WEBHOOK_URLS: receiver.url,
      VMS_WEBHOOK_SECRET: secret,
      ...more,
    };
    const app = later(
      await startTestApp({
        databaseUrl: db.url,
        prefix,
        role: "worker",
        env,
        delivery: { pollMs: 100, statsMs: 200 },
      }),
      (a) => a.stop(),
    );
    return { db, receiver, app, env };
  });
}
