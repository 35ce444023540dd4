/**
 * The business webhook (VMS_SMART_CALL_FORWARD_URL): POST the parsed turn as JSON, expect
 * `{action, action_code?, …}` back (answer.ts). It is given a hard budget — whatever is left of
 * the callback's deadline — and anything other than a valid answer within it (timeout, network
 * error, non-2xx, bad JSON, unknown action) is reported and ignored: rules and the default
 * action answer instead. `ask` never rejects.
 *
 *   2xx + {action…}            ok
 *   204, empty body, no action  no_answer (the webhook has no opinion on this turn)
 *   2xx + anything else         invalid
 *   other status                http_error
 *   budget exceeded             timeout
 *   connection/other failure    error
 */
import { performance } from "node:perf_hooks";

import { Agent, request } from "undici";

import { readWebhookAnswer, type AnswerData } from "./answer.js";
import type { SmartCallTurn } from "./callback.js";

export type WebhookOutcome =
  "ok" | "no_answer" | "timeout" | "http_error" | "invalid" | "error" | "skipped";

export interface WebhookResult {
  outcome: WebhookOutcome;
  /** Present when outcome is ok. */
  answer?: AnswerData;
  ms: number;
  /** One line for answered_reason and logs (never the URL, which may carry a credential). */
  detail: string;
}

export interface WebhookClient {
  ask(turn: SmartCallTurn, budgetMs: number): Promise<WebhookResult>;
  close(): Promise<void>;
}

/** A webhook answer is a small JSON object; anything larger is refused. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What the webhook receives: the turn, decoded, plus the time it has to answer. */
export function webhookPayload(turn: SmartCallTurn, budgetMs: number): Record<string, unknown> {
  return {
    call_id: turn.callId,
    timestamp: turn.timestampMs,
    turn_time: turn.turnTime.toISOString(),
    content_type: turn.contentType,
    role: turn.role,
    identity: turn.identity,
    words: turn.words,
    dtmf: turn.dtmf,
    begin_offset: turn.beginOffsetMs,
    end_offset: turn.endOffsetMs,
    dynamic_id: turn.dynamicId,
    content: turn.content,
    deadline_ms: Math.floor(budgetMs),
  };
}

class AnswerTooLarge extends Error {}

export function createWebhookClient(options: { url: string }): WebhookClient {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  const { url } = options;

  async function attempt(
    payload: string,
    signal: AbortSignal,
    started: number,
  ): Promise<WebhookResult> {
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const res = await request(url, {
        method: "POST",
        dispatcher: agent,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "voice-receipts smart-call",
        },
        body: payload,
        signal,
      });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump().catch(() => {});
        return { outcome: "http_error", ms: elapsed(), detail: `HTTP ${res.statusCode}` };
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        bytes += buf.length;
        if (bytes > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw new AnswerTooLarge();
        }
        chunks.push(buf);
      }
      const text = Buffer.concat(chunks).toString("utf8");
      if (res.statusCode === 204 || text.trim() === "") {
        return { outcome: "no_answer", ms: elapsed(), detail: "no answer (empty body)" };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { outcome: "invalid", ms: elapsed(), detail: "answer is not JSON" };
      }
      const answer = readWebhookAnswer(body);
      if (answer.kind === "none") {
        return { outcome: "no_answer", ms: elapsed(), detail: "no action in its answer" };
      }
      if (answer.kind === "invalid") {
        return { outcome: "invalid", ms: elapsed(), detail: `invalid answer: ${answer.reason}` };
      }
      return {
        outcome: "ok",
        answer: answer.answer,
        ms: elapsed(),
        detail: `answered in ${elapsed()} ms`,
      };
    } catch (err) {
      if (signal.aborted) {
        return { outcome: "timeout", ms: elapsed(), detail: `no answer within ${elapsed()} ms` };
      }
      if (err instanceof AnswerTooLarge) {
        return {
          outcome: "invalid",
          ms: elapsed(),
          detail: `answer larger than ${MAX_ANSWER_BYTES} bytes`,
        };
      }
      const e = err as Error & { code?: string };
      return { outcome: "error", ms: elapsed(), detail: `failed: ${e.code ?? e.message}` };
    }
  }

  return {
    async ask(turn, budgetMs) {
      const started = performance.now();
      const payload = JSON.stringify(webhookPayload(turn, budgetMs));
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      // The timer both aborts the request and settles the race, so the answer never waits for
      // undici to notice the abort (a belt-and-braces bound on the deadline).
      const deadline = new Promise<WebhookResult>((resolve) => {
        timer = setTimeout(() => {
          controller.abort();
          const ms = Math.round(performance.now() - started);
          resolve({ outcome: "timeout", ms, detail: `no answer within ${ms} ms` });
        }, budgetMs);
      });
      try {
        return await Promise.race([attempt(payload, controller.signal, started), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    // destroy, not close: an aborted request to a hanging webhook must not hold up shutdown.
    close: () => agent.destroy(),
  };
}
