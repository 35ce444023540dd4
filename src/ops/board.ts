/**
 * The queue board: bull-board at /admin/queues over every queue of the job catalogue, behind
 * VMS_ADMIN_TOKEN (the board is not mounted at all when the token is unset).
 *
 * A request is let in by `Authorization: Bearer <token>`, or by the session cookie that a first
 * page load with `?token=<token>` sets (the board's own XHR and asset requests cannot carry a
 * header, so the browser needs the cookie). The cookie holds an HMAC of the token, not the token,
 * and the `?token=` load is redirected to the same URL without it, so the token stays out of the
 * address bar, the history and Referer headers. Only the admin token is compared: the push token
 * (config.ts refuses it as the admin token) never opens the board.
 *
 * Retrying a job here moves it back to `wait`; the normal worker runs it again, and the
 * persistence is idempotent, so a retry has the same effect as the first run. Removing or
 * emptying jobs loses nothing either: receipts are durable in PostgreSQL first and the sweeper
 * enqueues any that are still unprocessed; the reconcile scheduler re-enqueues pending calls.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export const BOARD_PATH = "/admin/queues";
const COOKIE = "vr_board";

/** What each queue holds, shown under its name on the board. */
const DESCRIPTIONS: Record<string, string> = {
  receipts: "persist jobs: durable receipts (by id) applied to calls, call_events, recordings",
  reconcile: "one job per call: QueryCallDetailByCallId, rate-limited across all processes",
};

export interface QueueBoardOptions {
  token: string;
  queues: readonly Queue[];
}

/** Fixed-length digests, so timingSafeEqual never sees inputs of different lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(token: string): string {
  return createHmac("sha256", token).update("voice-receipts queue board").digest("base64url");
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

/** The request URL without its `token` query parameter (where a `?token=` load is sent). */
function withoutToken(rawUrl: string): string {
  const u = new URL(rawUrl, "http://board.invalid");
  u.searchParams.delete("token");
  return `${u.pathname}${u.search}`;
}

function createGate(token: string) {
  const session = cookieValue(token);
  return async function gate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = bearer(req.headers.authorization);
    if (header !== undefined && sameSecret(header, token)) {
      return;
    }
    const cookie = readCookie(req.headers.cookie, COOKIE);
    if (cookie !== undefined && sameSecret(cookie, session)) {
      return;
    }
    const query = (req.query as Record<string, unknown> | undefined)?.token;
    if (req.method === "GET" && typeof query === "string" && sameSecret(query, token)) {
      const https =
        req.protocol === "https" || req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
      await reply
        .header(
          "set-cookie",
          `${COOKIE}=${session}; Path=${BOARD_PATH}; HttpOnly; SameSite=Strict${https}`,
        )
        .redirect(withoutToken(req.url), 303);
      return;
    }
    await reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="voice-receipts queue board"')
      .type("text/plain; charset=utf-8")
      .send(
        `401: the queue board needs VMS_ADMIN_TOKEN (Authorization: Bearer … or ${BOARD_PATH}?token=…)\n`,
      );
  };
}

/** Mount the board on the daemon's HTTP server (one of its `routes` callbacks). */
export function registerQueueBoard(app: FastifyInstance, options: QueueBoardOptions): void {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: options.queues.map(
      (q) => new BullMQAdapter(q, { description: DESCRIPTIONS[q.name] ?? q.name }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: "voice-receipts" } },
  });
  const gate = createGate(options.token);
  // An encapsulated scope: the gate guards exactly the board's routes (pages, API, assets).
  void app.register(async (scope) => {
    scope.addHook("onRequest", gate);
    await scope.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}
