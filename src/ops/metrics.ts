/**
 * Prometheus metrics. One registry per app instance (tests build several apps in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

import { createDeliveryMetrics } from "../delivery/metrics.js";
import { createReconcileMetrics } from "../reconcile/metrics.js";
import { createRecordingMetrics } from "../recordings/metrics.js";
import { createSmartCallMetrics } from "../smartcall/metrics.js";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "voice_receipts_" });
  const receipts = new Counter({
    name: "voice_receipts_receipts_total",
    help: "Receipts seen, by source (mns, http, replay), message type and outcome (accepted, duplicate, rejected)",
    labelNames: ["source", "type", "outcome"] as const,
    registers: [registry],
  });
  const pushRequests = new Counter({
    name: "voice_receipts_push_requests_total",
    help: "HTTP push requests by message type and HTTP status",
    labelNames: ["type", "status"] as const,
    registers: [registry],
  });
  const pushDuration = new Histogram({
    name: "voice_receipts_push_duration_seconds",
    help: "Time to durably accept one HTTP push body (Alibaba's budget is 0.7 s)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.7, 1, 2.5],
    registers: [registry],
  });
  const pushBytesInFlight = new Gauge({
    name: "voice_receipts_push_bytes_in_flight",
    help: "Push body bytes held by the ingester now (VMS_PUSH_MAX_BYTES_IN_FLIGHT bounds them)",
    registers: [registry],
  });
  const pushBytesInFlightPeak = new Gauge({
    name: "voice_receipts_push_bytes_in_flight_peak",
    help: "Most push body bytes held at once since start (to size VMS_PUSH_MAX_BYTES_IN_FLIGHT)",
    registers: [registry],
  });
  const persisted = new Counter({
    name: "voice_receipts_persisted_total",
    help: "Receipts applied to calls/call_events/recordings by the persistence workers",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const persistBatchSize = new Histogram({
    name: "voice_receipts_persist_batch_size",
    help: "Receipts per persistence batch",
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const mns = (name: string, help: string, labels: readonly string[] = ["queue"]) =>
    new Counter({
      name: `voice_receipts_mns_${name}`,
      help,
      labelNames: labels,
      registers: [registry],
    });
  const mnsPolls = mns("polls_total", "BatchReceiveMessage calls");
  const mnsEmptyPolls = mns("empty_polls_total", "Long polls that ended with MessageNotExist");
  const mnsMessages = mns("messages_total", "Messages received");
  const mnsRedeliveries = mns("redeliveries_total", "Messages received with DequeueCount > 1");
  const mnsDeletes = mns("deletes_total", "Messages deleted after durable storage, by outcome", [
    "queue",
    "outcome",
  ]);
  const mnsErrors = mns("errors_total", "Failed polls by error code", ["queue", "code"]);
  const mnsTokenRefreshes = mns(
    "token_refreshes_total",
    "STS tokens fetched from QueryTokenForMnsQueue",
    ["type"],
  );
  // The dashboards draw reconcile calls/s against this line; set once from the configuration.
  const reconcileQpsLimit = new Gauge({
    name: "voice_receipts_reconcile_qps_limit",
    help: "VMS_RECONCILE_QPS: the cap on QueryCallDetailByCallId requests per second across all processes (0 when reconcile is off)",
    registers: [registry],
  });
  return {
    registry,
    reconcileQpsLimit,
    mnsPolls,
    mnsEmptyPolls,
    mnsMessages,
    mnsRedeliveries,
    mnsDeletes,
    mnsErrors,
    mnsTokenRefreshes,
    receipts,
    pushRequests,
    pushDuration,
    pushBytesInFlight,
    pushBytesInFlightPeak,
    persisted,
    persistBatchSize,
    /** voice_receipts_reconcile_*: QueryCallDetailByCallId calls, outcomes, limiter waits. */
    reconcile: createReconcileMetrics(registry),
    recordings: createRecordingMetrics(registry),
    /** voice_receipts_webhook_*: outcome delivery per endpoint. */
    delivery: createDeliveryMetrics(registry),
    /** voice_receipts_smart_call_*: callbacks by answerer and outcome, webhook latency. */
    smartCall: createSmartCallMetrics(registry),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
