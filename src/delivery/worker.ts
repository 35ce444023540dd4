/**
 * Outcome delivery, one component of the worker role (README "Deliver outcomes to your
 * systems"). The outbox in PostgreSQL is the whole truth; Redis plays no part, so delivery
 * survives restarts and Redis loss alike. Each round:
 *   1. fan out new events to pending deliveries (src/store/deliveries/fanOut.ts);
 *   2. claim due deliveries, leased with FOR UPDATE SKIP LOCKED (claim.ts), up to the free
 *      send slots (VMS_WEBHOOK_CONCURRENCY), and send them;
 *   3. record each outcome as it comes (record.ts): delivered, failed + next attempt, dead.
 * A round runs when an event is announced (LISTEN), when a send finishes, and every poll
 * interval. It uses a small pool of its own, so deliveries never wait on, nor hold up, the
 * connections of ingestion.
 */
import { setTimeout as sleep } from "node:timers/promises";

import type pg from "pg";

import type { Config } from "../config/index.js";
import type { Logger } from "../logger.js";
import { claimDueDeliveries, type ClaimedDelivery } from "../store/deliveries/claim.js";
import { fanOutEvents, type PendingDeliveryRow } from "../store/deliveries/fanOut.js";
import { recordAttempt } from "../store/deliveries/record.js";
import { endpointBacklog } from "../store/deliveries/stats.js";
import type { StoredEvent } from "../store/events/read.js";
import { endpointWants, redactEndpoint, type WebhookEndpoint } from "./endpointsConfig.js";
import { createEventListener } from "./listen.js";
import type { DeliveryMetrics } from "./metrics.js";
import { createSender } from "./sender.js";

export interface DeliveryTuning {
  /** Poll interval when nothing wakes the worker (default 1 s). */
  pollMs?: number;
  /** How often the per-endpoint gauges are refreshed (default 15 s). */
  statsMs?: number;
}

export interface DeliveryOptions {
  databaseUrl: string;
  /**
   * A small pool of its own (opened and closed by the composition root), so deliveries never
   * wait on, nor hold up, the pool that stores receipts.
   */
  pool: pg.Pool;
  webhooks: Config["webhooks"];
  metrics: DeliveryMetrics;
  logger: Logger;
  tuning?: DeliveryTuning;
}

const FAN_OUT_BATCH = 500;
/** At stop(), sends in flight may finish for this long; then they are cut, leases left to expire. */
const STOP_GRACE_MS = 3000;

/** Which endpoints get an event; exported for `deliveries replay`. */
export function routeEvents(
  endpoints: readonly WebhookEndpoint[],
  events: readonly StoredEvent[],
  delayMs: number,
): PendingDeliveryRow[] {
  return events.flatMap((e) =>
    endpoints
      .filter((ep) => endpointWants(ep, { type: e.type, outId: e.out_id }))
      .map((ep) => ({
        eventId: e.id,
        eventSeq: e.seq,
        eventOccurredAt: e.occurred_at,
        eventType: e.type,
        callId: e.call_id,
        endpoint: ep.url,
        delayMs,
      })),
  );
}

export function createDeliveryWorker(options: DeliveryOptions) {
  const { webhooks, metrics, logger } = options;
  const endpoints = webhooks.endpoints;
  const byUrl = new Map(endpoints.map((e) => [e.url, e]));
  const urls = endpoints.map((e) => e.url);
  const pollMs = options.tuning?.pollMs ?? 1000;
  const statsMs = options.tuning?.statsMs ?? 15_000;
  // A send is bounded by the timeout; the margin covers recording its outcome.
  const leaseMs = webhooks.timeoutMs + 5000;
  const pool = options.pool;
  const sender = createSender({ timeoutMs: webhooks.timeoutMs });
  const stopping = new AbortController();
  // Sends in flight at stop() get a short grace, then are cut (see stop()).
  const cutSends = new AbortController();
  let wake: (() => void) | undefined;
  let woken = false;
  const signalWake = () => {
    woken = true;
    wake?.();
  };
  const listener = createEventListener({
    databaseUrl: options.databaseUrl,
    logger,
    onEvent: signalWake,
  });
  const inFlight = new Set<Promise<void>>();
  let loop: Promise<void> | undefined;
  let lastStats = 0;
  let failing = false;

  async function deliver(d: ClaimedDelivery): Promise<void> {
    const ep = byUrl.get(d.endpoint);
    if (!ep) {
      return;
    }
    const label = { endpoint: redactEndpoint(ep.url) };
    const result = await sender.send(ep, { id: d.event_id, payload: d.payload }, cutSends.signal);
    if (cutSends.signal.aborted && !result.ok) {
      // Cut short by stop(): not an attempt. The lease expires and a worker sends it again.
      return;
    }
    metrics.latency.observe(label, result.latencyMs / 1000);
    const schedule = webhooks.retryScheduleMs;
    const nextDelayMs = d.attempt < schedule.length ? (schedule[d.attempt] ?? 0) : null;
    try {
      const r = await recordAttempt(pool, {
        id: d.id,
        createdAt: d.created_at,
        endpoint: d.endpoint,
        ok: result.ok,
        httpStatus: result.httpStatus,
        latencyMs: result.latencyMs,
        response: result.response,
        error: result.error,
        nextDelayMs,
        pauseAfterMs: webhooks.pauseAfterMs,
      });
      if (r.status === "delivered") {
        metrics.delivered.inc(label);
      } else if (r.status !== null) {
        metrics.failed.inc(label);
        const log = { ...label, event: d.event_id, type: d.event_type, attempt: d.attempt };
        if (r.status === "dead") {
          metrics.dead.inc(label);
          logger.error(
            { ...log, error: result.error },
            "webhook event dead after its last attempt",
          );
        } else {
          logger.warn({ ...log, error: result.error, nextDelayMs }, "webhook attempt failed");
        }
      }
      if (r.paused) {
        metrics.paused.set(label, 1);
        logger.error(
          { ...label, pauseAfterMs: webhooks.pauseAfterMs },
          "webhook endpoint PAUSED: it has failed every attempt for VMS_WEBHOOK_PAUSE_AFTER; " +
            "its events wait until `voice-receipts deliveries resume <url>`",
        );
      }
    } catch (err) {
      // The lease expires and the event is sent again: a duplicate with the same webhook-id.
      logger.error({ err, ...label, event: d.event_id }, "could not record a webhook attempt");
    }
  }

  async function refreshStats(): Promise<void> {
    for (const b of await endpointBacklog(pool, urls)) {
      const label = { endpoint: redactEndpoint(b.endpoint) };
      metrics.oldestUndelivered.set(label, b.oldest_age_seconds ?? 0);
      metrics.pending.set(label, b.pending);
      metrics.paused.set(label, b.paused ? 1 : 0);
      if (b.paused && lastStats === 0) {
        logger.error(label, "webhook endpoint is PAUSED; `voice-receipts deliveries resume <url>`");
      }
    }
    lastStats = Date.now();
  }

  async function round(): Promise<void> {
    for (;;) {
      const f = await fanOutEvents(pool, FAN_OUT_BATCH, (events) =>
        routeEvents(endpoints, events, webhooks.retryScheduleMs[0] ?? 0),
      );
      if (f.events < FAN_OUT_BATCH) {
        break;
      }
    }
    const free = webhooks.concurrency - inFlight.size;
    const claimed = await claimDueDeliveries(pool, { limit: free, endpoints: urls, leaseMs });
    for (const d of claimed) {
      const p: Promise<void> = deliver(d).finally(() => {
        inFlight.delete(p);
        signalWake();
      });
      inFlight.add(p);
    }
    if (Date.now() - lastStats >= statsMs) {
      await refreshStats();
    }
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      woken = false;
      try {
        await round();
        if (failing) {
          logger.info("outcome delivery: PostgreSQL answers again");
          failing = false;
        }
      } catch (err) {
        if (!failing) {
          logger.warn({ err }, "outcome delivery round failed; retrying");
          failing = true;
        }
        await sleep(Math.min(pollMs * 5, 5000), undefined, { signal: stopping.signal }).catch(
          () => {},
        );
      }
      if (woken || stopping.signal.aborted) {
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    /** Nothing to send to: the outbox is still written (and NOTIFYed), nobody is called. */
    enabled: endpoints.length > 0,
    start() {
      if (endpoints.length === 0 || loop) {
        return;
      }
      // Every endpoint's series exist from the start (at 0), so rates and alerts see the first
      // increment and the dashboard shows configured endpoints that have had no traffic yet.
      for (const url of urls) {
        const label = { endpoint: redactEndpoint(url) };
        metrics.delivered.inc(label, 0);
        metrics.failed.inc(label, 0);
        metrics.dead.inc(label, 0);
        metrics.paused.set(label, 0);
        metrics.oldestUndelivered.set(label, 0);
        metrics.pending.set(label, 0);
      }
      listener.start();
      loop = run();
      logger.info(
        { endpoints: urls.map(redactEndpoint), concurrency: webhooks.concurrency },
        "outcome delivery started",
      );
    },
    async stop() {
      stopping.abort();
      wake?.();
      await loop;
      const grace = setTimeout(() => cutSends.abort(), STOP_GRACE_MS);
      await Promise.allSettled([...inFlight]);
      clearTimeout(grace);
      await listener.stop();
      await sender.close();
    },
  };
}
