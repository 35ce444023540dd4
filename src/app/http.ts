/**
 * The daemon's HTTP server as a component: ingest roles serve the push routes (and health,
 * readiness, metrics) on VMS_PUSH_PORT; a worker-only process serves just health, readiness and
 * metrics, on VMS_METRICS_PORT if set (no HTTP at all otherwise), so its reconcile and
 * persistence series can be scraped too.
 */
import type { AddressInfo } from "node:net";

import type { FastifyInstance } from "fastify";

import type { Config } from "../config/index.js";
import type { RedisConnection } from "../infra/redis.js";
import type { Logger } from "../logger.js";
import { createReadiness } from "../ops/health.js";
import type { Metrics } from "../ops/metrics.js";
import { buildHttpServer } from "../sources/http/server.js";
import type { Component } from "./component.js";
import type pg from "pg";

export type Route = (app: FastifyInstance) => void;

export interface HttpComponent extends Component {
  server: FastifyInstance;
  /** The address after start(), e.g. http://127.0.0.1:8080. */
  url(): string | undefined;
}

export interface HttpDeps {
  config: Config;
  pool: pg.Pool;
  producerRedis: RedisConnection;
  metrics: Metrics;
  logger: Logger;
  /** Routes beside health/readiness/metrics; undefined for a worker-only (ops-only) server. */
  routes: Route[] | undefined;
  /** Listen here instead of the configured port (tests use 0). */
  port: number | undefined;
}

/** The server for this process, or undefined when it serves no HTTP (worker, no metrics port). */
export function buildHttp(deps: HttpDeps): HttpComponent | undefined {
  const { config, logger } = deps;
  const port = deps.routes ? config.push.port : config.metricsPort;
  if (port === undefined) {
    return undefined;
  }
  const server = buildHttpServer({
    logger: logger.child({ component: "http" }),
    metrics: deps.metrics,
    readiness: createReadiness(deps.pool, deps.producerRedis),
    bodyLimitBytes: config.push.bodyLimitBytes,
    ...(deps.routes ? { routes: deps.routes } : {}),
  });
  let address: string | undefined;
  return {
    name: "http",
    server,
    url: () => address,
    async start() {
      await server.listen({ host: config.push.host, port: deps.port ?? port });
      const a = server.server.address() as AddressInfo;
      const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
      address = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${a.port}`;
      logger.info({ url: address }, "http server listening");
    },
    // Stop intake first: new pushes get 503 (Alibaba retries), in-flight ones finish.
    stop: () => closeHttp(server),
  };
}

/**
 * Close the HTTP server: new requests get 503 (fastify), requests in flight finish. Node's
 * close() reaps only the connections idle at that instant; a keep-alive connection whose request
 * finishes afterwards would hold the server open for its keep-alive timeout (72 s), so idle
 * connections are reaped repeatedly, and whatever is left after the grace period is cut.
 */
async function closeHttp(http: FastifyInstance, graceMs = 5000): Promise<void> {
  const reaper = setInterval(() => http.server.closeIdleConnections(), 50);
  const cutter = setTimeout(() => http.server.closeAllConnections(), graceMs);
  try {
    await http.close();
  } finally {
    clearInterval(reaper);
    clearTimeout(cutter);
  }
}
