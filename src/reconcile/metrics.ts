/**
 * Reconcile metrics, registered on the app's registry by src/ops/metrics.ts.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What the running reconciler tells the backlog gauges; absent in a process without one. */
export interface BacklogSource {
  /** Reconcile jobs due now: waiting for a worker, or running. */
  dueCalls(): Promise<number>;
  /** The shared adaptive rate, calls per second. */
  callsPerSecond(): number;
}

/** Distinct out_id-prefix kinds one process labels; any further one is `other`. */
export const KIND_LABELS_MAX = 20;

/**
 * The `kind` label of a call skipped as unsupported: its ProdId learning key (prodIds.ts).
 * `saas`, `digits` and the `none…` keys are a handful; out_id prefixes (`p:…`) are open-ended,
 * so a process labels the first KIND_LABELS_MAX it meets and counts the rest as `other`.
 */
export function kindLabeler(max = KIND_LABELS_MAX): (key: string) => string {
  const seen = new Set<string>();
  return (key) => {
    if (!key.startsWith("p:") || seen.has(key)) {
      return key;
    }
    if (seen.size >= max) {
      return "other";
    }
    seen.add(key);
    return key;
  };
}

export function createReconcileMetrics(registry: Registry) {
  const registers = [registry];
  let source: BacklogSource | undefined;
  // Read when /metrics is scraped (as queueMetrics.ts does): an idle daemon does no work for them.
  const due = async () => (source ? await source.dueCalls().catch(() => undefined) : undefined);
  return {
    /** The running reconciler registers itself here (one per process). */
    setBacklogSource(s: BacklogSource | undefined): void {
      source = s;
    },
    rate: new Gauge({
      name: "voice_receipts_reconcile_rate_limit",
      help: "The adaptive rate of QueryCallDetailByCallId requests per second shared by all processes, as this one last saw it: VMS_RECONCILE_QPS until Alibaba throttles, then what the account's quota allows",
      registers,
    }),
    dueCalls: new Gauge({
      name: "voice_receipts_reconcile_due_calls",
      help: "Calls whose reconcile is due now (jobs waiting for a worker or running)",
      registers,
      async collect() {
        const n = await due();
        if (n !== undefined) {
          this.set(n);
        }
      },
    }),
    clearSeconds: new Gauge({
      name: "voice_receipts_reconcile_backlog_clear_seconds",
      help: "Estimated time to query every due call at the current adaptive rate (one request per call)",
      registers,
      async collect() {
        const n = await due();
        const rate = source?.callsPerSecond() ?? 0;
        if (n !== undefined && rate > 0) {
          this.set(n / rate);
        }
      },
    }),
    /** One per QueryCallDetailByCallId request. */
    calls: new Counter({
      name: "voice_receipts_reconcile_calls_total",
      help: "QueryCallDetailByCallId requests by outcome (found, empty, invalid, throttled, upstream_error, refused)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    /** One per call settled (or put back) by the reconciler. */
    results: new Counter({
      name: "voice_receipts_reconcile_results_total",
      help: "Calls handled by the reconciler by result (reconciled, reapplied, retry, not_found, skipped, policy_skipped, deferred, stale, missing)",
      labelNames: ["result"] as const,
      registers,
    }),
    /** One per call skipped because its kind never has details (reconcileCall.ts). */
    unsupportedSkipped: new Counter({
      name: "voice_receipts_reconcile_unsupported_skipped_total",
      help: "Calls skipped without a query because their kind never has a detail (reason unsupported), by kind: the ProdId learning key (saas = robot tasks, none[:ivr|:smart] = no out_id, digits, p:<out_id prefix>, at most 20 prefixes then other)",
      labelNames: ["kind"] as const,
      registers,
    }),
    /** The `kind` label of unsupportedSkipped, bounded (kindLabeler). */
    kindLabel: kindLabeler(),
    scheduled: new Counter({
      name: "voice_receipts_reconcile_scheduled_total",
      help: "Reconcile jobs enqueued by the scheduler, by reason (new, changed, recovered)",
      labelNames: ["reason"] as const,
      registers,
    }),
    /** Set by the running reconciler's detail-lag memory (detailLag.ts). */
    firstQueryDelay: new Gauge({
      name: "voice_receipts_reconcile_first_query_delay_seconds",
      help: "How long after a call's end new calls are first queried: the observed detail lag (90 % of details there), at least VMS_RECONCILE_DELAY_SECONDS; about one call in 10 is still first asked at VMS_RECONCILE_DELAY_SECONDS to keep measuring it",
      registers,
    }),
    /** One per call whose first round of queries came back empty (reconcileCall.ts). */
    firstQueryEmpty: new Counter({
      name: "voice_receipts_reconcile_first_query_empty_total",
      help: "Calls whose first query came back empty (the detail was not there yet): quota the first-query delay did not save",
      registers,
    }),
    limiterWait: new Histogram({
      name: "voice_receipts_reconcile_limiter_wait_seconds",
      help: "Time a request waited for the shared sliding-window limiter",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    limiterLate: new Counter({
      name: "voice_receipts_reconcile_limiter_late_total",
      help: "Limiter slots given up because the process was too late to use them (a stalled event loop)",
      registers,
    }),
    limiterCorrected: new Counter({
      name: "voice_receipts_reconcile_limiter_corrected_total",
      help: "Requests that went out more than 5 ms after their limiter slot (a descheduled process, GC, a new connection): their place in the shared window was moved to the real send time",
      registers,
    }),
    callDuration: new Histogram({
      name: "voice_receipts_reconcile_call_duration_seconds",
      help: "QueryCallDetailByCallId round trip",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    circuitOpens: new Counter({
      name: "voice_receipts_reconcile_circuit_opens_total",
      help: "Times the QueryCallDetailByCallId circuit breaker opened",
      registers,
    }),
  };
}

export type ReconcileMetrics = ReturnType<typeof createReconcileMetrics>;
