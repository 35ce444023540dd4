/**
 * Recording store metrics, registered on the app's registry by src/ops/metrics.ts.
 */
import { Counter, Gauge, type Registry } from "prom-client";

export function createRecordingMetrics(registry: Registry) {
  const registers = [registry];
  return {
    fetched: new Counter({
      name: "voice_receipts_recordings_fetched_total",
      help: "Recordings downloaded and stored",
      registers,
    }),
    bytes: new Counter({
      name: "voice_receipts_recordings_bytes_total",
      help: "Recording bytes downloaded (including attempts that failed part way)",
      registers,
    }),
    failures: new Counter({
      name: "voice_receipts_recordings_failures_total",
      help: "Failed download attempts by reason (expired, host_refused, too_large, http_4xx, http_5xx, truncated, network, store)",
      labelNames: ["reason"] as const,
      registers,
    }),
    oldestPendingExpiry: new Gauge({
      name: "voice_receipts_recordings_pending_link_expiry_seconds",
      help: "Seconds until the link of the pending recording closest to expiring expires (negative: already expired; 604800, the 7-day link life, when none is pending)",
      registers,
    }),
    expiringSoon: new Gauge({
      name: "voice_receipts_recordings_expiring_unstored",
      help: "Recordings not stored yet whose link expires within 24 h",
      registers,
    }),
  };
}

export type RecordingMetrics = ReturnType<typeof createRecordingMetrics>;
