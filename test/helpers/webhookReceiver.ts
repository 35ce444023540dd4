/**
 * A real HTTP webhook receiver for tests: verifies every request's signature with the
 * standardwebhooks library (as a business would) and records what it got. Its behaviour can be
 * switched at any time: answer 2xx, answer 500, hang (never answer), or be down (port closed).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

import { Webhook } from "standardwebhooks";

/** slow: verifies and records the request, then answers 2xx only after `slowMs`. */
export type ReceiverMode = "ok" | "slow" | "fail" | "hang" | "down";

export interface Received {
  id: string;
  type: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** Requests whose signature verified, in arrival order (duplicates included). */
  received: Received[];
  /** Requests that failed verification (must stay empty). */
  rejected: string[];
  /** Requests answered (any mode), for counting attempts. */
  attempts: number;
  setMode(mode: ReceiverMode): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  secret: string,
  opts: { path?: string; port?: number; slowMs?: number } = {},
): Promise<WebhookReceiver> {
  const wh = new Webhook(secret);
  let mode: ReceiverMode = "ok";
  const hanging = new Set<http.ServerResponse>();
  const r: Omit<WebhookReceiver, "setMode" | "close" | "url"> = {
    received: [],
    rejected: [],
    attempts: 0,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      r.attempts++;
      if (mode === "hang") {
        hanging.add(res);
        return;
      }
      if (mode === "fail") {
        res.writeHead(500).end("receiver failing on purpose");
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const payload = wh.verify(
          body,
          req.headers as Record<string, string>,
        ) as Received["payload"];
        r.received.push({
          id: String(req.headers["webhook-id"]),
          type: payload.type,
          payload,
          at: Date.now(),
        });
        if (mode === "slow") {
          hanging.add(res);
          setTimeout(() => {
            hanging.delete(res);
            if (!res.destroyed) {
              res.writeHead(204).end();
            }
          }, opts.slowMs ?? 1000);
        } else {
          res.writeHead(204).end();
        }
      } catch (err) {
        r.rejected.push((err as Error).message);
        res.writeHead(400).end("bad signature");
      }
    });
  });
  server.keepAliveTimeout = 1000;
  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${opts.path ?? "/hooks"}`;
  const shut = async () => {
    for (const res of hanging) {
      res.destroy();
    }
    hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return Object.assign(r, {
    url,
    async setMode(next: ReceiverMode) {
      if (next === "down" && mode !== "down") {
        await shut();
      } else if (next !== "down" && mode === "down") {
        await listen(port);
      }
      if (next !== "hang" && next !== "slow") {
        for (const res of hanging) {
          res.destroy();
        }
        hanging.clear();
      }
      mode = next;
    },
    async close() {
      if (mode !== "down") {
        await shut();
      }
    },
  }) as WebhookReceiver;
}

/** A fresh whsec_ secret. */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
}
