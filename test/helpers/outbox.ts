/**
 * The outbox (`events`) as the delivery tests drive it: events emitted in one transaction as a
 * store does, recording events made up for calls of their own, and the per-call order check.
 */
import type pg from "pg";
import { expect } from "vitest";

import { recordingEvent, type NewEvent } from "../../src/domain/outcomeEvents.js";
import { emitEvents } from "../../src/store/events/emit.js";

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
