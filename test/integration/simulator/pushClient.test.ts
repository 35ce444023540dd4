/**
 * The push client against a real HTTP receiver: Alibaba's success rule (HTTP 200 and a numeric
 * `code`), retries on a schedule, batching.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, it } from "vitest";

import { createPushClient, type PushClient } from "../../../src/simulator/index.js";

interface Seen {
  path: string;
  contentType: string | undefined;
  body: unknown;
  at: number;
}

let server: Server | undefined;
let client: PushClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  if (server) {
    const s = server;
    server = undefined;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A receiver answering with `answers[i]` for the i-th request (the last one repeats). */
async function receiver(
  answers: Array<(res: ServerResponse) => void>,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        path: req.url ?? "",
        contentType: req.headers["content-type"],
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        at: Date.now(),
      });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      answer(res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/push/{messageType}?token=t`, seen };
}

const ok = (res: ServerResponse) => res.end(JSON.stringify({ code: 0, msg: "接收成功" }));
const unavailable = (res: ServerResponse) => {
  res.statusCode = 503;
  res.end("busy");
};

describe("push client", () => {
  it("retries after a 503 on its schedule and stops once the receiver answers 200 with a numeric code", async () => {
    const r = await receiver([unavailable, ok]);
    client = createPushClient({ url: r.url, retryDelaysMs: [50, 50, 50] });
    const receipts = [{ call_id: "1^2", status_code: "200100" }];

    const outcome = await client.push("VoiceCallReport", receipts);

    expect(outcome.delivered).toBe(true);
    expect(outcome.attempts.map((a) => a.status)).toEqual([503, 200]);
    expect(outcome.attempts[0]!.error).toBe("HTTP 503");
    await new Promise((res) => setTimeout(res, 150));
    expect(r.seen).toHaveLength(2);
    expect(r.seen[1]!.at - r.seen[0]!.at).toBeGreaterThanOrEqual(45);
    expect(r.seen[0]).toMatchObject({
      path: "/push/VoiceCallReport?token=t",
      contentType: "application/json;charset=utf-8",
      body: receipts,
    });
  });

  it("counts a 200 without a numeric code as a failure and gives up after the last retry", async () => {
    const r = await receiver([(res) => res.end(JSON.stringify({ code: "0" }))]);
    client = createPushClient({ url: r.url, retryDelaysMs: [10, 10] });
    const outcome = await client.push("VoiceReport", [{ call_id: "1^2" }]);
    expect(outcome.delivered).toBe(false);
    expect(outcome.attempts).toHaveLength(3);
    expect(outcome.attempts.every((a) => a.error === "response body has no numeric code")).toBe(
      true,
    );
    expect(r.seen).toHaveLength(3);
  });

  it("fails an attempt the receiver does not answer within the timeout", async () => {
    const r = await receiver([(res) => setTimeout(() => ok(res), 300), ok]);
    client = createPushClient({ url: r.url, retryDelaysMs: [10], timeoutMs: 100 });
    const outcome = await client.push("VoiceReport", [{ call_id: "1^2" }]);
    expect(outcome.attempts[0]!.error).toBe("no answer within 100 ms");
    expect(outcome.delivered).toBe(true);
  });

  it("splits receipts into JSON-array batches and reports one outcome per batch", async () => {
    const r = await receiver([ok]);
    client = createPushClient({ url: r.url, batchSize: 2 });
    const outcomes = await client.pushAll(
      "VoiceReport",
      [1, 2, 3, 4, 5].map((n) => ({ n })),
    );
    expect(outcomes.map((o) => o.receipts)).toEqual([2, 2, 1]);
    expect(outcomes.every((o) => o.delivered)).toBe(true);
    expect(r.seen.map((s) => s.body).flat()).toHaveLength(5);
  });

  it("stops waiting for retries when closed", async () => {
    const r = await receiver([unavailable]);
    client = createPushClient({ url: r.url, retryDelaysMs: [60_000] });
    const pending = client.push("VoiceReport", [{ n: 1 }]);
    await new Promise((res) => setTimeout(res, 50));
    await client.close();
    const outcome = await pending;
    expect(outcome).toMatchObject({ delivered: false, aborted: true });
    expect(r.seen).toHaveLength(1);
  });
});
