/**
 * Configuration of the HTTP side: the push server (POST /push/:messageType, health, metrics), a
 * worker's own metrics port, and the admin token that opens the queue board and the call
 * explorer (src/ui/).
 */
import { intInRange, optionalString, stringWithDefault, type Parsed } from "./parse.js";

export const httpEnv = {
  VMS_PUSH_HOST: stringWithDefault("0.0.0.0"),
  VMS_PUSH_PORT: intInRange(0, 65535, 8080),
  VMS_METRICS_PORT: intInRange(0, 65535, undefined),
  VMS_PUSH_TOKEN: optionalString,
  VMS_ADMIN_TOKEN: optionalString,
  VMS_PUSH_BODY_LIMIT_BYTES: intInRange(1024, 100 * 1024 * 1024, 5 * 1024 * 1024),
  VMS_PUSH_MAX_BYTES_IN_FLIGHT: intInRange(1024, 1024 * 1024 * 1024, 4 * 1024 * 1024),
};

export interface HttpConfig {
  push: {
    host: string;
    port: number;
    token: string | undefined;
    bodyLimitBytes: number;
    /** Push body bytes held at once; more wait unread (src/sources/http/bytesInFlight.ts). */
    maxBytesInFlight: number;
  };
  /**
   * VMS_METRICS_PORT: where a `--role worker` process serves /healthz, /readyz and /metrics
   * (on VMS_PUSH_HOST). Unset: a worker-only process serves no HTTP. Roles with the push
   * server serve them there and ignore this.
   */
  metricsPort: number | undefined;
  /** VMS_ADMIN_TOKEN: opens the queue board at /admin/queues; the board is off when unset. */
  adminToken: string | undefined;
}

export function httpConfig(e: Parsed<typeof httpEnv>, problems: string[]): HttpConfig {
  if (e.VMS_ADMIN_TOKEN !== undefined && e.VMS_ADMIN_TOKEN === e.VMS_PUSH_TOKEN) {
    // The push token is written into Alibaba's console and URLs; it must never open the board.
    problems.push("  VMS_ADMIN_TOKEN: must differ from VMS_PUSH_TOKEN");
  }
  return {
    push: {
      host: e.VMS_PUSH_HOST,
      port: e.VMS_PUSH_PORT,
      token: e.VMS_PUSH_TOKEN,
      bodyLimitBytes: e.VMS_PUSH_BODY_LIMIT_BYTES,
      maxBytesInFlight: e.VMS_PUSH_MAX_BYTES_IN_FLIGHT,
    },
    metricsPort: e.VMS_METRICS_PORT,
    adminToken: e.VMS_ADMIN_TOKEN,
  };
}
