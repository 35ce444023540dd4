/**
 * The detail lag every process learns together (issue #24): the found ages of baseline calls
 * (lagEstimate.ts) in one Redis list under the reconcile prefix, the last LAG_WINDOW of them, and
 * the learned first-query delay each process derives from it for the scheduler.
 *
 *   <prefix>:reconcile-lag            list of found ages in ms, newest first (LPUSH + LTRIM)
 *   <prefix>:reconcile-lag:first:<id> the age of a baseline call's first (empty) answer, until
 *                                     the call is found or given up (expires with the window)
 *
 * Nothing here waits for Redis on the caller's path: records are fire-and-forget (a lost one is
 * one sample less), and the scheduler reads a cached delay that a background refresh keeps
 * current. When the refresh has not succeeded for `staleMs` (Redis down), the configured delay
 * stands, as before the delay was learned.
 */
import type { RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import {
  changedMaterially,
  isBaselineQuery,
  LAG_MIN_SAMPLES,
  LAG_WINDOW,
  learnedDelayMs,
  type LagSettings,
} from "./lagEstimate.js";

export interface DetailLagMemory {
  /** The first-query delay for new calls: learned, else the configured one. Never waits. */
  delayMs(): number;
  /**
   * The learned lag (the same figure) only while it is known: enough found calls, record read
   * recently; else undefined. Evidence that a kind has no details waits for it
   * (unsupportedKinds.ts evidenceAgeMs).
   */
  knownLagMs(): number | undefined;
  /**
   * A call's first answer (its first round) came back empty, `ageMs` after the call's end; its
   * first query was scheduled `scheduledMs` after the end (isBaselineQuery).
   */
  firstEmpty(callId: string, ageMs: number, scheduledMs: number | undefined): void;
  /**
   * A call was found `ageMs` after its end, after `emptyRounds` empty rounds; `scheduledMs` as in
   * firstEmpty (read only when found at its first round).
   */
  found(callId: string, emptyRounds: number, ageMs: number, scheduledMs: number | undefined): void;
  /** A call was given up (not_found): it says nothing about the lag. */
  gaveUp(callId: string): void;
  /** Re-read the shared record now (the scheduler's cache does it every `refreshMs`). */
  refresh(): Promise<void>;
}

export interface DetailLagOptions extends LagSettings {
  redis: RedisConnection;
  /** `<VMS_QUEUE_PREFIX>:reconcile-lag`. */
  key: string;
  /** How long a pending baseline call's first age is kept: the give-up window. */
  giveUpMs: number;
  logger: Logger;
  /** Told the delay after each refresh (the gauge). */
  onDelay?: (delayMs: number) => void;
  /** Default 5 s: one LRANGE of ≤ 100 short strings per process. */
  refreshMs?: number;
  /** Default 60 s: after this long without a successful refresh, the configured delay. */
  staleMs?: number;
}

export function createDetailLagMemory(o: DetailLagOptions): DetailLagMemory {
  const refreshMs = o.refreshMs ?? 5_000;
  const staleMs = o.staleMs ?? 60_000;
  const firstKey = (callId: string) => `${o.key}:first:${callId}`;
  let learned = o.configuredMs;
  /** Whether the last read had enough found ages for `learned` to be a measure. */
  let known = false;
  let okAt = -Infinity;
  let triedAt = -Infinity;
  let loading: Promise<void> | undefined;
  let told: number | undefined;

  const tell = (delayMs: number) => {
    if (delayMs !== told) {
      told = delayMs;
      o.onDelay?.(delayMs);
    }
  };

  async function load(): Promise<void> {
    triedAt = Date.now();
    try {
      const ages = (await o.redis.lrange(o.key, 0, LAG_WINDOW - 1)).map(Number);
      const next = learnedDelayMs(ages, o);
      if (changedMaterially(learned, next)) {
        o.logger.info(
          {
            fromSeconds: Math.round(learned / 1000),
            toSeconds: Math.round(next / 1000),
            configuredSeconds: Math.round(o.configuredMs / 1000),
            samples: ages.length,
          },
          "first reconcile query delay now follows the observed detail lag (90 % of details " +
            "were there this long after the call's end)",
        );
      }
      learned = next;
      known = ages.length >= (o.minSamples ?? LAG_MIN_SAMPLES);
      okAt = Date.now();
    } catch (err) {
      o.logger.debug({ err }, "detail lag record unreadable; keeping the last delay");
    }
  }

  function refresh(): Promise<void> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  function push(ageMs: number): void {
    void o.redis
      .multi()
      .lpush(o.key, String(Math.round(ageMs)))
      .ltrim(o.key, 0, LAG_WINDOW - 1)
      .exec()
      .catch(() => {});
  }

  tell(o.configuredMs);
  return {
    delayMs() {
      const now = Date.now();
      if (now - triedAt >= refreshMs) {
        void refresh();
      }
      const d = now - okAt > staleMs ? o.configuredMs : learned;
      tell(d);
      return d;
    },
    knownLagMs() {
      const now = Date.now();
      if (now - triedAt >= refreshMs) {
        void refresh();
      }
      return known && now - okAt <= staleMs ? learned : undefined;
    },
    firstEmpty(callId, ageMs, scheduledMs) {
      if (!isBaselineQuery({ firstAgeMs: ageMs, scheduledMs, configuredMs: o.configuredMs })) {
        return;
      }
      void o.redis
        .set(firstKey(callId), String(Math.round(ageMs)), "PX", Math.max(1000, o.giveUpMs))
        .catch(() => {});
    },
    found(callId, emptyRounds, ageMs, scheduledMs) {
      if (emptyRounds === 0) {
        if (isBaselineQuery({ firstAgeMs: ageMs, scheduledMs, configuredMs: o.configuredMs })) {
          push(ageMs);
        }
        return;
      }
      // Only a call whose first answer was a baseline one left its first age behind.
      void o.redis
        .multi()
        .get(firstKey(callId))
        .del(firstKey(callId))
        .exec()
        .then((r) => {
          if (r?.[0]?.[1] != null) {
            push(ageMs);
          }
        })
        .catch(() => {});
    },
    gaveUp(callId) {
      void o.redis.del(firstKey(callId)).catch(() => {});
    },
    refresh,
  };
}
