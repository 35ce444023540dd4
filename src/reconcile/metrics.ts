/**
 * Reconcile metrics, registered on the app's registry by src/ops/metrics.ts.
 */
import { Counter, Histogram, type Registry } from "prom-client";

export function createReconcileMetrics(registry: Registry) {
  const registers = [registry];
  return {
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
    scheduled: new Counter({
      name: "voice_receipts_reconcile_scheduled_total",
      help: "Reconcile jobs enqueued by the scheduler, by reason (new, changed, recovered)",
      labelNames: ["reason"] as const,
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
