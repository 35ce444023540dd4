/**
 * The shared detail-lag record (src/reconcile/detailLag.ts) on a real Redis: only baseline calls
 * (first asked at the configured delay) count, a call found after empty rounds counts only if its
 * first answer was a baseline one, several processes learn one delay, and a Redis that does not
 * answer never makes the scheduler wait: it gets the configured delay.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";

import { createDetailLagMemory } from "../../src/reconcile/detailLag.js";
import { LAG_MIN_SAMPLES } from "../../src/reconcile/lagEstimate.js";
import { createLogger } from "../../src/logger.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { startTcpProxy } from "../helpers/tcpProxy.js";
import { waitFor } from "../helpers/waitFor.js";

const prefix = randomPrefix();
const key = `${prefix}:reconcile-lag`;
const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
afterAll(async () => {
  redis.disconnect();
  await deleteKeysWithPrefix(prefix);
});

const logger = createLogger({ level: "silent" });
// Configured 60 s: a first answer up to 80 s after the end (one 20 s retry step) is a baseline one.
const settings = { key, configuredMs: 60_000, capMs: 3_600_000, giveUpMs: 3_600_000, logger };

describe("the detail-lag record", () => {
  it("counts baseline calls only, and every process learns the same delay", async () => {
    const a = createDetailLagMemory({ ...settings, redis });
    const b = createDetailLagMemory({ ...settings, redis });
    // Found at once at the learnt delay: says nothing about the lag, not recorded; even when
    // the learnt delay is within a retry step of the configured one.
    a.found("late-1", 0, 400_000, 400_000);
    a.found("near", 0, 70_500, 70_000);
    // First answered late (a backlog) and found on a retry: not recorded either.
    a.firstEmpty("late-2", 200_000, 200_000);
    a.found("late-2", 1, 500_000, undefined);
    // Baseline calls: first asked at ~60 s, found at 180 s (after empty rounds) or at once.
    for (let i = 0; i < LAG_MIN_SAMPLES; i++) {
      a.firstEmpty(`c${i}`, 61_000, 60_000);
    }
    await waitFor(async () => (await redis.keys(`${key}:first:*`)).length === LAG_MIN_SAMPLES, {
      timeoutMs: 5000,
      what: "baseline first ages stored",
    });
    for (let i = 0; i < LAG_MIN_SAMPLES; i++) {
      a.found(`c${i}`, 2, 180_000, undefined);
    }
    a.found("quick", 0, 62_000, 60_000);
    await waitFor(async () => (await redis.llen(key)) === LAG_MIN_SAMPLES + 1, {
      timeoutMs: 5000,
      what: "found ages recorded",
    });
    const ages = (await redis.lrange(key, 0, -1)).map(Number).sort((x, y) => x - y);
    expect(ages).toEqual([62_000, ...Array<number>(LAG_MIN_SAMPLES).fill(180_000)]);
    // The first ages are gone once the calls are found; a given-up call's too.
    a.firstEmpty("gone", 61_000, 60_000);
    a.gaveUp("gone");
    await waitFor(async () => (await redis.keys(`${key}:first:*`)).length === 0, {
      timeoutMs: 5000,
      what: "first ages removed",
    });

    await b.refresh();
    expect(b.delayMs()).toBe(180_000);
    await a.refresh();
    expect(a.delayMs()).toBe(180_000);
  });

  it("falls back to the configured delay, without waiting, while Redis does not answer", async () => {
    const target = new URL(inject("redisUrl"));
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    // A worker-role connection, as the reconciler's: commands wait for Redis to come back.
    const link = new Redis(proxy.url(inject("redisUrl")), {
      maxRetriesPerRequest: null,
      retryStrategy: () => 100,
    });
    link.on("error", () => {});
    try {
      const m = createDetailLagMemory({ ...settings, redis: link, refreshMs: 50, staleMs: 500 });
      await m.refresh();
      // The first test left ten baseline calls found at 180 s.
      expect(m.delayMs()).toBe(180_000);
      await proxy.cut();
      // delayMs() is synchronous: the scheduler never waits for Redis. Once the record could not
      // be read for staleMs, the configured delay.
      await waitFor(async () => m.delayMs() === 60_000, {
        timeoutMs: 10_000,
        what: "the configured delay while Redis is cut",
      });
      m.found("while-down", 0, 61_000, 60_000);
      await proxy.restore();
      await waitFor(async () => m.delayMs() === 180_000, {
        timeoutMs: 10_000,
        what: "the learnt delay once Redis is back",
      });
    } finally {
      link.disconnect();
      await proxy.close();
    }
  });
});
