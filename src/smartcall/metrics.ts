/**
 * Smart-call callback metrics, registered on the app's registry by src/ops/metrics.ts.
 */
import { Counter, Histogram, type Registry } from "prom-client";

/** Seconds; the answer deadline defaults to 800 ms, so the buckets are finest below 1 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5];

export function createSmartCallMetrics(registry: Registry) {
  const registers = [registry];
  return {
    /**
     * One per callback request. answered_by: webhook, rules, default, none (not answered);
     * outcome: stored, duplicate (a retry answered from the stored turn), storage_failed
     * (answered, but the turn or its answer could not be stored), invalid (400), unauthorized (401).
     */
    callbacks: new Counter({
      name: "voice_receipts_smart_call_callbacks_total",
      help: "Smart-call ASR callbacks by who answered (webhook, rules, default, none) and outcome (stored, duplicate, storage_failed, invalid, unauthorized)",
      labelNames: ["answered_by", "outcome"] as const,
      registers,
    }),
    answerDuration: new Histogram({
      name: "voice_receipts_smart_call_answer_duration_seconds",
      help: "From a smart-call callback's arrival to its answer (bounded by VMS_SMART_CALL_DEADLINE_MS)",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    webhookDuration: new Histogram({
      name: "voice_receipts_smart_call_webhook_duration_seconds",
      help: "Business webhook (VMS_SMART_CALL_FORWARD_URL) latency by outcome (ok, no_answer, timeout, http_error, invalid, error)",
      labelNames: ["outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    rulesReloads: new Counter({
      name: "voice_receipts_smart_call_rules_reloads_total",
      help: "Reloads of the VMS_SMART_CALL_RULES file after it changed, by outcome (ok, invalid)",
      labelNames: ["outcome"] as const,
      registers,
    }),
  };
}

export type SmartCallMetrics = ReturnType<typeof createSmartCallMetrics>;
