/**
 * One webhook request per the Standard Webhooks specification: POST the event's payload as
 * JSON, with `webhook-id` (the event id), `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256>`, made by the standardwebhooks library). A 2xx answered within the
 * timeout is success; anything else (other status, timeout, connection failure) is a failure
 * to retry. `send` never rejects, and its `error` never contains the URL (it may carry a
 * credential).
 */
import { performance } from "node:perf_hooks";

import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";

/** How much of a response body is kept in `deliveries.response`. */
export const RESPONSE_BYTES_KEPT = 1024;

export interface SendResult {
  ok: boolean;
  httpStatus: number | null;
  latencyMs: number;
  response: string | null;
  error: string | null;
}

export interface Sender {
  send(
    target: { url: string; secret: string },
    msg: { id: string; payload: string },
    signal?: AbortSignal,
  ): Promise<SendResult>;
  close(): Promise<void>;
}

export function createSender(options: { timeoutMs: number }): Sender {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const signers = new Map<string, Webhook>();
  const signer = (secret: string) => {
    let w = signers.get(secret);
    if (!w) {
      w = new Webhook(secret);
      signers.set(secret, w);
    }
    return w;
  };

  return {
    async send(target, msg, outer) {
      const started = performance.now();
      const latency = () => performance.now() - started;
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
      const now = new Date();
      try {
        const res = await request(target.url, {
          method: "POST",
          dispatcher: agent,
          headers: {
            "content-type": "application/json",
            "user-agent": "voice-receipts webhooks",
            "webhook-id": msg.id,
            "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
            "webhook-signature": signer(target.secret).sign(msg.id, now, msg.payload),
          },
          body: msg.payload,
          signal,
        });
        // The whole body is read (within the timeout) so the connection can be reused; only
        // its first bytes are kept.
        const kept: Buffer[] = [];
        let bytes = 0;
        for await (const chunk of res.body) {
          const buf = chunk as Buffer;
          if (bytes < RESPONSE_BYTES_KEPT) {
            kept.push(buf.subarray(0, RESPONSE_BYTES_KEPT - bytes));
          }
          bytes += buf.length;
        }
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        return {
          ok,
          httpStatus: res.statusCode,
          latencyMs: latency(),
          response: kept.length > 0 ? Buffer.concat(kept).toString("utf8") : null,
          error: ok ? null : `HTTP ${res.statusCode}`,
        };
      } catch (err) {
        const e = err as Error & { code?: string };
        return {
          ok: false,
          httpStatus: null,
          latencyMs: latency(),
          response: null,
          error: timeout.aborted
            ? `no answer within ${options.timeoutMs} ms`
            : outer?.aborted
              ? "aborted: worker stopping"
              : `failed: ${e.code ?? e.name}`,
        };
      }
    },
    async close() {
      await agent.close().catch(() => {});
    },
  };
}
