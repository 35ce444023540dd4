/**
 * The queue board: bull-board at /admin/queues over every queue of the job catalogue, behind
 * VMS_ADMIN_TOKEN (the board is not mounted at all when the token is unset).
 *
 * The gate (src/ops/adminGate.ts): `Authorization: Bearer <token>`, or the HMAC cookie that one
 * `?token=<token>` page load sets. Only the admin token is compared: the push token
 * (src/config/http.ts refuses it as the admin token) never opens the board.
 *
 * Retrying a job here moves it back to `wait`; the normal worker runs it again, and the
 * persistence is idempotent, so a retry has the same effect as the first run. Removing or
 * emptying jobs loses nothing either: receipts are durable in PostgreSQL first and the sweeper
 * enqueues any that are still unprocessed; the reconcile scheduler re-enqueues pending calls.
 */
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";

import { createAdminGate } from "./adminGate.js";

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
  const gate = createAdminGate({
    token: options.token,
    cookie: COOKIE,
    path: BOARD_PATH,
    label: "queue board",
  });
  // An encapsulated scope: the gate guards exactly the board's routes (pages, API, assets).
  void app.register(async (scope) => {
    scope.addHook("onRequest", gate);
    await scope.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}
