/** The 500 handler logs the error and the route pattern, never req.url (it carries the token). */
import { Writable } from "node:stream";

import { expect, it } from "vitest";

import { createLogger } from "../../../src/logger.js";
import { createMetrics } from "../../../src/ops/metrics.js";
import { buildHttpServer } from "../../../src/sources/http/server.js";

it("a failing request is logged without its query string", async () => {
  let logs = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs += chunk.toString();
      cb();
    },
  });
  const app = buildHttpServer({
    logger: createLogger({ level: "info", destination }),
    metrics: createMetrics(),
    readiness: async () => ({ ready: true, checks: {} }) as never,
    bodyLimitBytes: 1024,
    routes: [
      (a) =>
        a.post("/push/:messageType", async () => {
          throw new Error("boom");
        }),
    ],
  });
  const res = await app.inject({ method: "POST", url: "/push/VoiceReport?token=s3cr3t-push" });
  expect(res.statusCode).toBe(500);
  await new Promise((r) => setImmediate(r));
  expect(logs).toContain('"route":"/push/:messageType"');
  expect(logs).toContain("boom");
  expect(logs).not.toContain("s3cr3t-push");
  await app.close();
});
