/**
 * The limiter of QueryCallDetailByCallId requests, shared by every process through Redis: an
 * adaptive rate (AIMD, see limiterScript.ts) that starts at and never exceeds the cap
 * (VMS_RECONCILE_QPS), enforced as a sliding window: at most `rate` calls in any window of
 * `windowMs`, counted over a sorted set of reservation times.
 *
 * Why not BullMQ's `limiter` option: it is a *fixed* window (a counter that expires), so a burst
 * at the end of one window and another at the start of the next are both allowed: measured here,
 * 149 job starts in one sliding second with `{ max: 100, duration: 1000 }` (BullMQ 6.7.0). The
 * account limit of QueryCallDetailByCallId is per sliding second; going over means throttling
 * errors, and each throttled request still counts against the quota. Its limit also applies to
 * job starts, not to the HTTP calls inside a job (a job may try several ProdIds).
 *
 * Pacing matters as much as the cap: a burst of N requests reaches the API spread by queueing on
 * both sides, and that jitter is what pushes a window over the limit when measured at the API.
 * A small margin on the window (`windowMs` slightly above 1000) absorbs the rest of the jitter.
 *
 * Each process has one pump that asks for as many reservations as it has waiters (one round trip
 * for many jobs), carries the clean answers seen since its last round trip (the additive
 * increase), and wakes each waiter at its time. A throttling answer is reported at once.
 *
 * The window records when requests really went out, not only when they were reserved: a waiter
 * gets a slot, and the caller calls `slot.sent()` as late as it can before the request leaves
 * (detailApi.ts calls it before the RPC call and again when the request reaches the socket).
 * A request that leaves more than `correctAfterMs` after its reservation's time (the process
 * descheduled, GC, a new connection's handshake) has its entry moved to the real time
 * (`ZADD XX GT`: only later, never re-created). Otherwise a request reserved at t = 0 but sent at
 * t = 40 and the request `rate` slots later, reserved at 1030 and sent on time, fall in one
 * sliding second at the API (docs/benchmarks.md, "101 in a sliding second"). The later request
 * is reserved at most `horizonMs` ahead, i.e. after the correction as long as the lateness stays
 * below window − horizon (~530 ms), so it lands a window after the real send. Moving an entry
 * later only raises the times the rules in limiterScript.ts compare against: both stay
 * conservative (and a moved entry that becomes the newest paces the next grant from the real
 * send, which is what pacing means).
 *
 * Over 300 lines: the options (each with why its default), the pump and the slots' send-time
 * correction share one closure's state (the waiters, the rate, the recent round trips); split
 * into files, that state would have to be passed between them.
 */
import { sleep } from "../infra/sleep.js";
import type { RedisConnection } from "../infra/redis.js";
import { LIMITER_LUA, type AimdOptions, type LimiterScriptFn } from "./limiterScript.js";

export class LimiterAbortedError extends Error {
  constructor() {
    super("rate limiter wait aborted");
    this.name = "LimiterAbortedError";
  }
}

export interface SlidingWindowLimiterOptions extends AimdOptions {
  redis: RedisConnection;
  /** Key prefix, e.g. `{vr}:reconcile-limiter` (hash-tagged: all keys in one cluster slot). */
  key: string;
  /** Most calls allowed per window (the cap); the adaptive rate starts here. */
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
  /**
   * A slot's request that goes out more than this after its reservation's time has its window
   * entry moved to the real time; smaller lateness is left to the window's margin. Default 5 ms.
   */
  correctAfterMs?: number;
  /** Called once per slot whose window entry was moved to its real send time, with the lateness. */
  onCorrected?: (lateMs: number) => void;
  /** Called when Redis fails (the pump retries every 500 ms; a failed correction is not retried). */
  onError?: (err: Error) => void;
  /** Called with the shared rate (calls per window) after every round trip. */
  onRate?: (rate: number) => void;
}

/** One request's place in the window, given by acquire(). Dropping it unused is quota-safe. */
export interface LimiterSlot {
  /** Time waited for the slot, ms (the wait metric, answered()). */
  readonly waitedMs: number;
  /**
   * The request is going out now: call it as late as possible before its bytes leave, once or
   * more (the latest call counts). Moves the slot's window entry to the real time when that is
   * more than `correctAfterMs` late; fire-and-forget, never throws, Redis errors go to onError.
   * A plain function (no `this`): it can be handed on as a callback.
   */
  readonly sent: () => void;
}

export interface SlidingWindowLimiter {
  /** Resolves when the caller may send one request. */
  acquire(signal?: AbortSignal): Promise<LimiterSlot>;
  /**
   * A clean answer (not throttled) to a request that waited `waitedMs` for its slot: counted
   * towards the additive increase only if it waited at least one pacing gap, i.e. the rate was
   * what held it back. When demand (or our CPU) stays below the rate, raising it would only let
   * bursts through: TCP does not grow an unused window either (RFC 7661).
   */
  answered(waitedMs: number): void;
  /** A throttling answer: lowers every process's rate (multiplicative decrease). */
  throttled(): Promise<void>;
  /** The shared rate as last seen, calls per window. */
  rate(): number;
  /** Reject every waiter; used on stop. */
  close(): void;
}

interface Waiter {
  started: number;
  /** Local time the current reservation is for. */
  due?: number;
  /** The current reservation's member in the window and its time there (Redis's clock, ms). */
  id?: number;
  at?: number;
  resolve(slot: LimiterSlot): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  timer?: NodeJS.Timeout;
}

const defined = new WeakSet<RedisConnection>();

function script(redis: RedisConnection): LimiterScriptFn {
  if (!defined.has(redis)) {
    redis.defineCommand("vrLimiterAdaptive", { numberOfKeys: 3, lua: LIMITER_LUA });
    defined.add(redis);
  }
  return (redis as unknown as { vrLimiterAdaptive: LimiterScriptFn }).vrLimiterAdaptive.bind(redis);
}

export function createSlidingWindowLimiter(o: SlidingWindowLimiterOptions): SlidingWindowLimiter {
  const run = script(o.redis);
  const horizonMs = o.horizonMs ?? 500;
  const keys = [`${o.key}:window`, `${o.key}:rate`, `${o.key}:seq`] as const;
  const aimd = [
    o.decrease ?? 0.85,
    o.step ?? Math.max(1, o.limit / 50),
    o.cooldownMs ?? o.windowMs,
    o.floor ?? 1,
  ] as const;
  let rate = o.limit;
  /** Clean answers not yet reported. */
  let clean = 0;
  /** Report answers and ask for `want` reservations, in one round trip. */
  async function call(want: number, throttled: number): Promise<number[]> {
    const reported = clean;
    clean = 0;
    try {
      const reply = await run(
        ...keys,
        o.limit,
        o.windowMs,
        want,
        horizonMs,
        reported,
        throttled,
        ...aimd,
      );
      rate = (reply[1] ?? o.limit * 1000) / 1000;
      o.onRate?.(rate);
      return reply;
    } catch (err) {
      clean += reported;
      throw err;
    }
  }
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

  const correctAfterMs = o.correctAfterMs ?? 5;

  /**
   * The slot of a reservation whose time has come. Its window entry is at `at` on Redis's clock,
   * which is `due` on ours (`due` leans late by at most half a round trip: lateness measured from
   * it may come out that much short, which the window's margin absorbs with the rest below
   * `correctAfterMs`).
   */
  function slot(waitedMs: number, id: number, at: number, due: number): LimiterSlot {
    /** Lateness already recorded in the window (0: the entry is at its reserved time). */
    let moved = 0;
    return {
      waitedMs,
      sent() {
        const late = Date.now() - due;
        if (late - moved <= correctAfterMs) {
          return;
        }
        if (moved === 0) {
          o.onCorrected?.(late);
        }
        moved = late;
        // XX: an entry already trimmed (or a window that expired) is not brought back; GT: a
        // correction that arrives after a larger one does not undo it. Not awaited: the request
        // must not wait for Redis. Redis down, the command waits in the connection's offline
        // queue (bounded by the slots in flight: no new slot is granted meanwhile).
        o.redis.zadd(keys[0], "XX", "GT", at + late, String(id)).catch((err: unknown) => {
          o.onError?.(err as Error);
        });
      },
    };
  }

  function settle(w: Waiter, err?: Error): void {
    clearTimeout(w.timer);
    w.signal?.removeEventListener("abort", w.onAbort);
    if (err) {
      w.reject(err);
    } else {
      w.resolve(slot(Date.now() - w.started, w.id ?? 0, w.at ?? 0, w.due ?? 0));
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
          reply = await call(Math.min(queue.length, maxBatch), 0);
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
        const [retryAfter = 0, , ...grants] = reply;
        for (let i = 0; i + 2 < grants.length; i += 3) {
          const [delay = 0, id = 0, at = 0] = grants.slice(i, i + 3);
          const w = queue.shift();
          if (!w) {
            break; // the waiter gave up meanwhile: that reservation goes unused (quota-safe)
          }
          w.due = asked + baseRtt + Math.max(0, delay);
          w.id = id;
          w.at = at;
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
      return new Promise<LimiterSlot>((resolve, reject) => {
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
    answered(waitedMs) {
      if (waitedMs >= o.windowMs / rate) {
        clean++;
      }
    },
    async throttled() {
      await call(0, 1);
    },
    rate: () => rate,
    close() {
      closed = true;
      wake?.abort();
      for (const w of queue.splice(0)) {
        settle(w, new LimiterAbortedError());
      }
    },
  };
}
