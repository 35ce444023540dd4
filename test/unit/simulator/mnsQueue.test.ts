/**
 * Queue semantics without HTTP, on a simulated clock: visibility, handles, delay, priority,
 * retention, long-poll wake-ups.
 */
import { describe, expect, it } from "vitest";

import { SimClock } from "../../../src/simulator/clock.js";
import { createCounters } from "../../../src/simulator/counters.js";
import { DEFAULT_QUEUE_ATTRIBUTES, MnsQueue, md5Upper } from "../../../src/simulator/mnsQueue.js";

function queue(overrides: Partial<typeof DEFAULT_QUEUE_ATTRIBUTES> = {}) {
  const clock = new SimClock();
  const counters = createCounters();
  const q = new MnsQueue(
    "q",
    { ...DEFAULT_QUEUE_ATTRIBUTES, ...overrides },
    clock,
    counters,
    "VoiceReport",
  );
  clock.onAdvance(() => q.notify());
  return { q, clock, counters };
}

describe("MNS queue", () => {
  it("hides a received message until its visibility timeout, then hands it out again with a new handle", () => {
    const { q, clock, counters } = queue({ visibilityTimeout: 30 });
    q.send("hello");
    const [first] = q.receive(16);
    expect(first).toMatchObject({ body: "hello", dequeueCount: 1, bodyMd5: md5Upper("hello") });
    expect(q.receive(16)).toEqual([]);
    clock.advance(30_000);
    const [second] = q.receive(16);
    expect(second).toMatchObject({
      messageId: first!.messageId,
      dequeueCount: 2,
      firstDequeueTime: first!.firstDequeueTime,
    });
    expect(q.delete(first!.receiptHandle!)).toEqual({ ok: false, code: "MessageNotExist" });
    expect(q.delete(second!.receiptHandle!).ok).toBe(true);
    expect(counters.mns.redeliveries).toBe(1);
  });

  it("refuses a handle once its visibility time has passed, and malformed handles as ReceiptHandleError", () => {
    const { q, clock } = queue({ visibilityTimeout: 10 });
    q.send("x");
    const [m] = q.receive(1);
    clock.advance(10_000);
    expect(q.delete(m!.receiptHandle!)).toEqual({ ok: false, code: "MessageNotExist" });
    expect(q.delete("not a handle")).toEqual({ ok: false, code: "ReceiptHandleError" });
  });

  it("keeps delayed messages invisible until due and serves higher priority first", () => {
    const { q, clock } = queue({ visibilityTimeout: 600 });
    q.send("late", { delaySeconds: 60 });
    q.send("normal");
    q.send("urgent", { priority: 1 });
    expect(q.stats()).toEqual({ active: 2, inactive: 0, delayed: 1 });
    expect(q.receive(16).map((m) => m.body)).toEqual(["urgent", "normal"]);
    clock.advance(60_000);
    expect(q.receive(16).map((m) => m.body)).toEqual(["late"]);
  });

  it("drops messages older than the retention period", () => {
    const { q, clock } = queue({ messageRetentionPeriod: 60 });
    q.send("old");
    clock.advance(60_000);
    expect(q.receive(1)).toEqual([]);
    expect(q.snapshot()).toEqual([]);
  });

  it("wakes a waiting receive when a message is sent or becomes visible again", async () => {
    const { q, clock } = queue({ visibilityTimeout: 30 });
    const waiting = q.receiveWait(16, 5_000);
    q.send("now");
    const [m] = await waiting;
    expect(m!.body).toBe("now");

    const again = q.receiveWait(16, 5_000);
    clock.advance(30_000);
    expect((await again).map((x) => x.dequeueCount)).toEqual([2]);
  });

  it("gives nothing to a withdrawn long poll", async () => {
    const { q } = queue();
    let cancel = () => {};
    const waiting = q.receiveWait(1, 5_000, (c) => (cancel = c));
    cancel();
    expect(await waiting).toEqual([]);
    q.send("kept");
    expect(q.stats().active).toBe(1);
  });
});
