/** The push ingester's budget of bytes in flight (src/sources/http/bytesInFlight.ts). */
import { describe, expect, it } from "vitest";

import { createBytesInFlight } from "../../../src/sources/http/bytesInFlight.js";

/** Lets pending promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe("bytes in flight", () => {
  it("admits while the budget holds, queues the rest unread, and never holds more", async () => {
    const gate = createBytesInFlight(100);
    const releases: (() => void)[] = [];
    const admitted: number[] = [];
    const all = [40, 40, 40, 30, 60].map((bytes, i) =>
      gate.acquire(bytes).then((release) => {
        admitted.push(i);
        releases.push(release);
        expect(gate.held()).toBeLessThanOrEqual(100);
      }),
    );
    await settle();
    expect(admitted).toEqual([0, 1]);
    expect(gate.held()).toBe(80);
    expect(gate.waiting()).toBe(3);

    releases[0]?.();
    await settle();
    // 40 held + 40 + 30 > 100: strict arrival order, the 30 does not overtake the 40.
    expect(admitted).toEqual([0, 1, 2]);
    releases[1]?.();
    await settle();
    expect(admitted).toEqual([0, 1, 2, 3]);
    releases[2]?.();
    releases[3]?.();
    await settle();
    await Promise.all(all);
    expect(admitted).toEqual([0, 1, 2, 3, 4]);
    expect(gate.peak()).toBeLessThanOrEqual(100);
    releases[4]?.();
    expect(gate.held()).toBe(0);
  });

  it("admits a request larger than the whole budget alone, so it is slowed, never refused", async () => {
    const gate = createBytesInFlight(100);
    const small = await gate.acquire(10);
    let bigAdmitted = false;
    const big = gate.acquire(500).then((release) => {
      bigAdmitted = true;
      return release;
    });
    await settle();
    expect(bigAdmitted).toBe(false);
    small();
    const release = await big;
    expect(gate.held()).toBe(500);
    release();
    expect(gate.held()).toBe(0);
  });

  it("gives the room back once, however often release is called", async () => {
    const gate = createBytesInFlight(100);
    const release = await gate.acquire(60);
    const other = await gate.acquire(40);
    release();
    release();
    expect(gate.held()).toBe(40);
    other();
    expect(gate.held()).toBe(0);
  });
});
