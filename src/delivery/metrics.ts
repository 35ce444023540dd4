/**
 * Outcome-delivery metrics, per endpoint (labelled with the URL without credentials or query),
 * registered on the app's registry by src/ops/metrics.ts.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export function createDeliveryMetrics(registry: Registry) {
  const registers = [registry];
  const labelNames = ["endpoint"] as const;
  return {
    delivered: new Counter({
      name: "voice_receipts_webhook_delivered_total",
      help: "Events delivered to a webhook endpoint (answered 2xx within the timeout)",
      labelNames,
      registers,
    }),
    failed: new Counter({
      name: "voice_receipts_webhook_failed_total",
      help: "Failed webhook attempts (other status, timeout, connection failure), the last ones included",
      labelNames,
      registers,
    }),
    dead: new Counter({
      name: "voice_receipts_webhook_dead_total",
      help: "Events given up for an endpoint after the last attempt of VMS_WEBHOOK_RETRY_SCHEDULE",
      labelNames,
      registers,
    }),
    latency: new Histogram({
      name: "voice_receipts_webhook_latency_seconds",
      help: "Webhook request duration, every attempt",
      labelNames,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
      registers,
    }),
    oldestUndelivered: new Gauge({
      name: "voice_receipts_webhook_oldest_undelivered_seconds",
      help: "Age of the oldest event not yet delivered (nor dead) for an endpoint; 0 when none",
      labelNames,
      registers,
    }),
    pending: new Gauge({
      name: "voice_receipts_webhook_pending",
      help: "Deliveries waiting to be sent (due or scheduled for a retry)",
      labelNames,
      registers,
    }),
    paused: new Gauge({
      name: "voice_receipts_webhook_paused",
      help: "1 while an endpoint is paused after failing for VMS_WEBHOOK_PAUSE_AFTER (voice-receipts deliveries resume <url>)",
      labelNames,
      registers,
    }),
  };
}

export type DeliveryMetrics = ReturnType<typeof createDeliveryMetrics>;
