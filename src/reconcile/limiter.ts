/**
 * A sliding-window rate limiter shared by every process through Redis: at most `limit` calls in
 * any window of `windowMs`, counted over a sorted set of reservation times.
 *
 * Why not BullMQ's `limiter` option: it is a *fixed* window (a counter that expires), so a burst
 * at the end of one window and another at the start of the next are both allowed: measured here,
 * 149 job starts in one sliding second with `{ max: 100, duration: 1000 }` (perf §1.4). The
 * account limit of QueryCallDetailByCallId is per sliding second; going over means throttling
 * errors, and each throttled request still counts against the quota. Its limit also applies to
 * job starts, not to the HTTP calls inside a job (a job may try several ProdIds).
 *
 * How it works: one Lua script, atomic in Redis, on Redis's clock (no skew between hosts).
 * Each grant is a *reservation* of a send time `at`, recorded in the sorted set, such that
 *   - at ≥ (the limit-th newest reservation) + window  → never more than `limit` per window;
 *   - at ≥ (newest reservation) + window / limit        → evenly paced, no bursts;
 *   - at ≥ end of a throttling pause (see penalize());
 *   - at ≤ now + horizon, else the caller is told when to ask again.
 * Pacing matters as much as the cap: a burst of N requests reaches the API spread by queueing on
 * both sides, and that jitter is what pushes a window over the limit when measured at the API.
 * A small margin on the window (`windowMs` slightly above 1000) absorbs the rest of the jitter.
 *
 * Each process has one pump that asks for as many reservations as it has waiters (one round trip
 * for many jobs) and wakes each waiter at its time.
 */
import { sleep } from "../infra/sleep.js";
import type { RedisConnection } from "../infra/redis.js";

const ACQUIRE = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local gap = window / limit
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local earliest = now
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then earliest = now + pause end
local out = {0}
for i = 1, want do
  local at = earliest
  local n = redis.call('ZCARD', KEYS[1])
  if n > 0 then
    local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    at = math.max(at, tonumber(newest[2]) + gap)
  end
  if n >= limit then
    local kth = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
    at = math.max(at, tonumber(kth[2]) + window)
  end
  if at - now > horizon then
    out[1] = math.ceil(at - now - horizon)
    break
  end
  local id = redis.call('INCR', KEYS[3])
  redis.call('ZADD', KEYS[1], at, id)
  out[#out + 1] = math.ceil(at - now)
end
local ttl = math.ceil(window + horizon + 60000)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return out
`;

const PAUSE = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return 1
`;

type AcquireFn = (
  window: string,
  pause: string,
  seq: string,
  limit: number,
  windowMs: number,
  want: number,
  horizonMs: number,
) => Promise<number[]>;
type PauseFn = (pause: string, ms: number) => Promise<number>;

export class LimiterAbortedError extends Error {
  constructor() {
    super("rate limiter wait aborted");
    this.name = "LimiterAbortedError";
  }
}

export interface SlidingWindowLimiterOptions {
  redis: RedisConnection;
  /** Key prefix, e.g. `{vr}:reconcile-limiter` (hash-tagged: all keys in one cluster slot). */
  key: string;
  /** Calls allowed per window. */
  limit: number;
  /** Window length; a few ms above 1000 leaves room for network jitter. */
  windowMs: number;
  /** How far ahead a reservation may be made; default 500 ms. */
  horizonMs?: number;
  /** Reservations per round trip; default 64. */
  maxBatch?: number;
  /**
   * A reservation whose timer fires later than this (a busy event loop) is dropped and the
   * waiter asks again: sent late, it could land in a window with later reservations. Default 10 ms.
   */
  maxLateMs?: number;
  /** Called when a reservation was dropped because its timer fired too late. */
  onLate?: () => void;
  /** Called when Redis fails (the pump retries every 500 ms). */
  onError?: (err: Error) => void;
}

export interface SlidingWindowLimiter {
  /** Resolves when the caller may send one request, with the time waited in ms. */
  acquire(signal?: AbortSignal): Promise<number>;
  /** Make every process wait `ms` before its next reservation (after a throttling answer). */
  penalize(ms: number): Promise<void>;
  /** Reject every waiter; used on stop. */
  close(): void;
}

interface Waiter {
  started: number;
  /** Local time the current reservation is for. */
  due?: number;
  resolve(waitedMs: number): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  timer?: NodeJS.Timeout;
}

const defined = new WeakSet<RedisConnection>();

function commands(redis: RedisConnection): { acquire: AcquireFn; pause: PauseFn } {
  if (!defined.has(redis)) {
    redis.defineCommand("vrLimiterAcquire", { numberOfKeys: 3, lua: ACQUIRE });
    redis.defineCommand("vrLimiterPause", { numberOfKeys: 1, lua: PAUSE });
    defined.add(redis);
  }
  const r = redis as unknown as { vrLimiterAcquire: AcquireFn; vrLimiterPause: PauseFn };
  return {
    acquire: r.vrLimiterAcquire.bind(redis),
    pause: r.vrLimiterPause.bind(redis),
  };
}

export function createSlidingWindowLimiter(o: SlidingWindowLimiterOptions): SlidingWindowLimiter {
  const cmd = commands(o.redis);
  const keys = [`${o.key}:window`, `${o.key}:pause`, `${o.key}:seq`] as const;
  const horizonMs = o.horizonMs ?? 500;
  const maxBatch = o.maxBatch ?? 64;
  const maxLateMs = o.maxLateMs ?? 10;
  const queue: Waiter[] = [];
  let pumping = false;
  let closed = false;
  /** Aborted to cut the pump's pause short (close()). */
  let wake: AbortController | undefined;
  /** Recent round trips of the acquire script, ms. */
  const rtts: number[] = [];

  const pause = async (ms: number) => {
    wake = new AbortController();
    await sleep(ms, wake.signal);
    wake = undefined;
  };

  function settle(w: Waiter, err?: Error): void {
    clearTimeout(w.timer);
    w.signal?.removeEventListener("abort", w.onAbort);
    if (err) {
      w.reject(err);
    } else {
      w.resolve(Date.now() - w.started);
    }
  }

  /** The reservation's time has come: go, unless we are too late for it. */
  function fire(w: Waiter): void {
    if (closed) {
      settle(w, new LimiterAbortedError());
      return;
    }
    if (Date.now() - (w.due ?? 0) <= maxLateMs) {
      settle(w);
      return;
    }
    o.onLate?.();
    queue.unshift(w);
    void pump();
  }

  async function pump(): Promise<void> {
    if (pumping) {
      return;
    }
    pumping = true;
    try {
      while (queue.length > 0 && !closed) {
        let reply: number[];
        // Reservation delays count from when Redis ran the script, somewhere between `asked`
        // and the reply. Waiting from the reply never sends early. Lateness is measured from
        // `asked` plus the usual round trip (the smallest of the recent ones), so a reply read
        // late because our event loop stalled shows up as late reservations, which are dropped
        // instead of being sent out of their slot, while a slow network alone drops nothing.
        const asked = Date.now();
        try {
          reply = await cmd.acquire(
            ...keys,
            o.limit,
            o.windowMs,
            Math.min(queue.length, maxBatch),
            horizonMs,
          );
        } catch (err) {
          o.onError?.(err as Error);
          await pause(500);
          continue;
        }
        rtts.push(Date.now() - asked);
        if (rtts.length > 50) {
          rtts.shift();
        }
        const baseRtt = Math.min(...rtts);
        const [retryAfter = 0, ...delays] = reply;
        for (const delay of delays) {
          const w = queue.shift();
          if (!w) {
            break; // the waiter gave up meanwhile: that reservation goes unused (quota-safe)
          }
          w.due = asked + baseRtt + Math.max(0, delay);
          if (delay <= 0) {
            fire(w);
          } else {
            w.timer = setTimeout(() => fire(w), delay);
          }
        }
        if (queue.length > 0 && retryAfter > 0) {
          await pause(retryAfter);
        }
      }
    } finally {
      pumping = false;
    }
  }

  return {
    acquire(signal) {
      if (closed || signal?.aborted) {
        return Promise.reject(new LimiterAbortedError());
      }
      return new Promise<number>((resolve, reject) => {
        const w: Waiter = {
          started: Date.now(),
          resolve,
          reject,
          signal,
          onAbort: () => {
            const i = queue.indexOf(w);
            if (i >= 0) {
              queue.splice(i, 1);
            }
            settle(w, new LimiterAbortedError());
          },
        };
        signal?.addEventListener("abort", w.onAbort, { once: true });
        queue.push(w);
        void pump();
      });
    },
    async penalize(ms) {
      await cmd.pause(keys[1], Math.max(1, Math.round(ms)));
    },
    close() {
      closed = true;
      wake?.abort();
      for (const w of queue.splice(0)) {
        settle(w, new LimiterAbortedError());
      }
    },
  };
}
