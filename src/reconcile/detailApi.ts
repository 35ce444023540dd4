/**
 * One QueryCallDetailByCallId request, done carefully: wait while the circuit is open, take a
 * slot from the shared limiter, call through the circuit breaker, and turn every failure into
 * what the job should do next. This is the one place API errors are mapped.
 *
 *  - throttled (RateLimitedError): reported to the shared limiter, which lowers every process's
 *    rate (AIMD, limiterScript.ts), then the same request takes a new slot at that rate; never
 *    an attempt and never a reschedule: the job keeps its place, so a quota below
 *    VMS_RECONCILE_QPS slows reconciliation to the real quota instead of collapsing it;
 *  - 5xx, network, timeout (UpstreamError): the job is put back with a growing delay; never an
 *    attempt; counts towards the breaker;
 *  - refused (AlibabaApiError: signature, AccessKey, RAM permission, parameters): logged loudly,
 *    put back slowly, never dropped; counts towards the breaker;
 *  - circuit open: requests wait (in the job, which keeps its slot, so the worker stops pulling
 *    jobs — a pause, not a spin) until the breaker lets one probe through.
 */
import { performance } from "node:perf_hooks";

import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  SamplingBreaker,
  circuitBreaker,
  handleWhen,
  type IBreaker,
} from "cockatiel";

import { AlibabaApiError, type RpcClient } from "../alibaba/openapi.js";
import { RateLimitedError, UpstreamError } from "../errors.js";
import type { Logger } from "../logger.js";
import { decodeDetailResponse, type DecodedData } from "./detail.js";
import { LimiterAbortedError, type SlidingWindowLimiter } from "./limiter.js";
import type { ReconcileMetrics } from "./metrics.js";
import { refusedDelayMs, transientDelayMs } from "./policy.js";

export const ACTION = "QueryCallDetailByCallId";
export const VERSION = "2017-05-25";

/** "Put this job back for `delayMs`": expected, not a failure. */
export class Reschedule extends Error {
  constructor(
    readonly delayMs: number,
    readonly reason: "upstream" | "refused",
  ) {
    super(`reschedule in ${delayMs} ms (${reason})`);
    this.name = "Reschedule";
  }
}

/** Opens on 5 failures in a row, or on more than 20 % failures over 10 s (at ≥ 2 calls/s). */
class EitherBreaker implements IBreaker {
  private readonly breakers: IBreaker[];
  constructor(...breakers: IBreaker[]) {
    this.breakers = breakers;
  }
  get state(): unknown {
    return this.breakers.map((b) => b.state);
  }
  set state(value: unknown) {
    if (Array.isArray(value)) {
      this.breakers.forEach((b, i) => (b.state = value[i]));
    }
  }
  success(state: CircuitState): void {
    this.breakers.forEach((b) => b.success(state));
  }
  failure(state: CircuitState): boolean {
    return this.breakers.map((b) => b.failure(state)).some(Boolean);
  }
}

export interface DetailQuery {
  callId: string;
  prodId: string;
  queryDateMs: number;
}

export interface DetailApiOptions {
  rpc: RpcClient;
  limiter: SlidingWindowLimiter;
  metrics: ReconcileMetrics;
  logger: Logger;
  /** How long the circuit stays open before one probe; default 5 s. */
  halfOpenAfterMs?: number;
}

export interface DetailApi {
  /**
   * Ask for one call's detail with one ProdId. Resolves with the decoded `Data`; rejects with
   * Reschedule (put the job back), LimiterAbortedError (stopping) or an unexpected error.
   * `failures` = the job's consecutive transient failures so far, for the backoff.
   */
  query(q: DetailQuery, failures: number, signal: AbortSignal): Promise<DecodedData>;
  /** Latency of recent answers (EWMA, ms), for sizing concurrency. */
  latencyMs(): number;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new LimiterAbortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(new LimiterAbortedError());
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function createDetailApi(o: DetailApiOptions): DetailApi {
  const { rpc, limiter, metrics, logger } = o;
  const halfOpenAfter = o.halfOpenAfterMs ?? 5000;
  const breaker = circuitBreaker(
    handleWhen((err) => err instanceof UpstreamError || err instanceof AlibabaApiError),
    {
      halfOpenAfter,
      breaker: new EitherBreaker(
        new ConsecutiveBreaker(5),
        new SamplingBreaker({ threshold: 0.2, duration: 10_000, minimumRps: 2 }),
      ),
    },
  );
  let openedAt = 0;
  breaker.onBreak(() => {
    openedAt = Date.now();
    metrics.circuitOpens.inc();
    logger.error(
      { halfOpenAfterMs: halfOpenAfter },
      `${ACTION} keeps failing: circuit open, requests paused`,
    );
  });
  breaker.onReset(() => logger.warn(`${ACTION} answers again: circuit closed`));

  let ewma = 200;
  const refusalLoggedAt = new Map<string, number>();

  function logRefusal(err: AlibabaApiError, callId: string): void {
    // Loud, but once a minute per code: a bad AccessKey would otherwise log every call.
    const last = refusalLoggedAt.get(err.code) ?? 0;
    const now = Date.now();
    const fields = {
      code: err.code,
      status: err.statusCode,
      callId,
      err,
    };
    if (now - last >= 60_000) {
      refusalLoggedAt.set(err.code, now);
      logger.error(
        fields,
        `${ACTION} refused: check the AccessKey and the RAM permission dyvms:${ACTION}; calls stay pending and are retried slowly`,
      );
    } else {
      logger.debug(fields, `${ACTION} refused`);
    }
  }

  /** Closed, or open long enough that the next request may probe it. */
  function mayExecute(): boolean {
    const state = breaker.state;
    return (
      state === CircuitState.Closed ||
      (state === CircuitState.Open && Date.now() >= openedAt + halfOpenAfter)
    );
  }

  /** Wait while the circuit is open, and while another request probes it (half-open). */
  async function gate(signal: AbortSignal): Promise<void> {
    while (!mayExecute()) {
      const openFor = openedAt + halfOpenAfter - Date.now();
      await abortableSleep(
        breaker.state === CircuitState.Open ? Math.max(20, openFor) : 20,
        signal,
      );
    }
  }

  async function query(
    q: DetailQuery,
    failures: number,
    signal: AbortSignal,
  ): Promise<DecodedData> {
    for (;;) {
      await gate(signal);
      const slot = await limiter.acquire(signal);
      metrics.limiterWait.observe(slot.waitedMs / 1000);
      if (!mayExecute()) {
        // Another request is probing (half-open) or the circuit opened meanwhile: executing now
        // would wait for the probe and send late, outside the slot we were given. Drop the slot.
        continue;
      }
      const started = performance.now();
      try {
        const body = await breaker.execute(() => {
          // The request leaves now, or later if its connection is new: the window records when
          // (limiter.ts). The first call stands if the RPC client cannot tell the second.
          slot.sent();
          return rpc.call(
            ACTION,
            VERSION,
            { CallId: q.callId, ProdId: q.prodId, QueryDate: String(q.queryDateMs) },
            slot.sent,
          );
        });
        const ms = performance.now() - started;
        ewma = 0.9 * ewma + 0.1 * ms;
        metrics.callDuration.observe(ms / 1000);
        limiter.answered(slot.waitedMs);
        const decoded = decodeDetailResponse(body);
        metrics.calls.inc({ outcome: decoded.kind });
        return decoded;
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          continue; // opened while we waited for the limiter: back to the gate
        }
        if (err instanceof RateLimitedError) {
          metrics.calls.inc({ outcome: "throttled" });
          // Redis down: the rate stays; the limiter's pump reports the outage.
          await limiter.throttled().catch(() => {});
          continue;
        }
        if (err instanceof UpstreamError) {
          metrics.calls.inc({ outcome: "upstream_error" });
          logger.debug({ callId: q.callId, err }, `${ACTION} failed`);
          throw new Reschedule(transientDelayMs(failures + 1), "upstream");
        }
        if (err instanceof AlibabaApiError) {
          metrics.calls.inc({ outcome: "refused" });
          logRefusal(err, q.callId);
          throw new Reschedule(refusedDelayMs(failures + 1), "refused");
        }
        throw err;
      }
    }
  }

  return { query, latencyMs: () => ewma };
}
