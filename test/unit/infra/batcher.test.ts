import { setTimeout as sleep } from "node:timers/promises";

import { describe, expect, it } from "vitest";

import { createBatcher } from "../../../src/infra/batcher.js";

/** A run() that records its batches and answers each item with its double. */
function recorder(delayMs = 0) {
  const batches: number[][] = [];
  return {
    batches,
    run: async (items: number[]) => {
      batches.push(items);
      if (delayMs > 0) {
        await sleep(delayMs);
      }
      return items.map((i) => i * 2);
    },
  };
}

describe("createBatcher", () => {
  it("flushes on size: a full batch runs at once, without waiting for the window", async () => {
    const r = recorder();
    const b = createBatcher({ maxWeight: 3, maxWaitMs: 60_000, run: r.run });
    const results = await Promise.all([b.add(1), b.add(2), b.add(3)]);
    expect(results).toEqual([2, 4, 6]);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  it("flushes on time: items added within the window go together", async () => {
    const r = recorder();
    const b = createBatcher({ maxWeight: 100, maxWaitMs: 20, run: r.run });
    const first = b.add(1);
    const second = b.add(2);
    expect(r.batches).toEqual([]);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(r.batches).toEqual([[1, 2]]);
  });

  it("never lets a weighted item straddle two batches; a heavy item goes alone", async () => {
    const seen: number[][][] = [];
    const b = createBatcher<number[], number>({
      maxWeight: 5,
      weigh: (ids) => ids.length,
      maxWaitMs: 60_000,
      run: async (groups) => {
        seen.push(groups);
        return groups.map((g) => g.length);
      },
    });
    const out = await Promise.all([b.add([1, 2, 3]), b.add([4, 5, 6]), b.add([7, 8])]);
    await b.flush();
    expect(out).toEqual([3, 3, 2]);
    expect(seen).toEqual([
      [[1, 2, 3]],
      [
        [4, 5, 6],
        [7, 8],
      ],
    ]);
    const heavy = b.add([1, 2, 3, 4, 5, 6, 7]);
    await b.flush();
    expect(await heavy).toBe(7);
  });

  it("stop drains: flush() runs what is queued and waits for every batch in flight", async () => {
    const r = recorder(30);
    const b = createBatcher({ maxWeight: 100, maxWaitMs: 60_000, run: r.run });
    let settled = 0;
    const adds = [b.add(1), b.add(2)].map((p) => p.then(() => settled++));
    await b.flush();
    expect(settled).toBe(2);
    expect(r.batches).toEqual([[1, 2]]);
    await Promise.all(adds);
  });

  it("a failing run rejects every item of its batch and only those", async () => {
    const b = createBatcher({
      maxWeight: 2,
      maxWaitMs: 60_000,
      run: async (items: number[]) => {
        if (items.includes(13)) {
          throw new Error("refused");
        }
        return items;
      },
    });
    const all = Promise.allSettled([b.add(1), b.add(13), b.add(3)]);
    await b.flush();
    expect((await all).map((x) => x.status)).toEqual(["rejected", "rejected", "fulfilled"]);
  });

  it("group commit: an idle batcher runs at once; items arriving while slots are busy go together", async () => {
    const r = recorder(30);
    const b = createBatcher({ maxWeight: 100, maxInFlight: 1, run: r.run });
    const first = b.add(1);
    expect(r.batches).toEqual([[1]]);
    const rest = [b.add(2), b.add(3), b.add(4)];
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
  });
});
