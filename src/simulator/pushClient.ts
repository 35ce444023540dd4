/**
 * Alibaba's HTTP batch push (docs/alibaba.md §3): POST a JSON array of receipts; the push counts as
 * received only on HTTP 200 with a JSON body whose `code` is a number ("系统仅校验返回值的code是否为数字").
 * After a failure it tries again on a schedule (docs: 1 min, 5 min, 10 min, then gives up).
 */
import { setMaxListeners } from "node:events";

import { Agent, request } from "undici";

export const DEFAULT_RETRY_DELAYS_MS = [60_000, 300_000, 600_000] as const;
/** The platform waits 700 ms for an answer (docs/alibaba.md §3). */
export const DEFAULT_PUSH_TIMEOUT_MS = 700;

export interface PushClientOptions {
  /** Receiver URL; `{messageType}` is replaced by the receipt type, e.g. `http://h:8080/push/{messageType}`. */
  url: string;
  /** Waits before the 2nd, 3rd… attempt; attempts = 1 + length. */
  retryDelaysMs?: readonly number[];
  /** Per-attempt deadline for the whole response. */
  timeoutMs?: number;
  /** Receipts per POST for {@link PushClient.pushAll}; default 100. */
  batchSize?: number;
}

export interface PushAttempt {
  startedAt: number;
  status: number | undefined;
  ok: boolean;
  /** Why it failed (status, bad body, timeout, network); undefined on success. */
  error: string | undefined;
}

export interface PushOutcome {
  messageType: string;
  receipts: number;
  delivered: boolean;
  attempts: PushAttempt[];
  /** The client was closed before the batch was delivered or given up. */
  aborted: boolean;
}

export interface PushClient {
  /** Push one batch (a JSON array) with retries. */
  push(messageType: string, receipts: readonly unknown[]): Promise<PushOutcome>;
  /** Split into batches of `batchSize` and push them concurrently. */
  pushAll(messageType: string, receipts: readonly unknown[]): Promise<PushOutcome[]>;
  /** Stop pending retries and close connections. */
  close(): Promise<void>;
}

function accepted(status: number, text: string): string | undefined {
  if (status !== 200) {
    return `HTTP ${status}`;
  }
  try {
    const body: unknown = JSON.parse(text);
    if (
      typeof body === "object" &&
      body !== null &&
      typeof (body as { code?: unknown }).code === "number"
    ) {
      return undefined;
    }
    return "response body has no numeric code";
  } catch {
    return "response body is not JSON";
  }
}

export function createPushClient(options: PushClientOptions): PushClient {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const agent = new Agent({ keepAliveTimeout: 4_000 });
  const closing = new AbortController();
  // Every push in flight and every retry pause listens on it (one per concurrent push, often
  // more than Node's default of 10): not a leak, each listener is removed when its push ends.
  setMaxListeners(0, closing.signal);
  let closed: Promise<void> | undefined;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (closing.signal.aborted) {
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        closing.signal.removeEventListener("abort", done);
        resolve();
      }
      closing.signal.addEventListener("abort", done);
    });

  const attempt = async (url: string, payload: string): Promise<PushAttempt> => {
    const startedAt = Date.now();
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const res = await request(url, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json;charset=utf-8" },
        body: payload,
        signal,
      });
      const text = await res.body.text();
      const error = accepted(res.statusCode, text);
      return { startedAt, status: res.statusCode, ok: error === undefined, error };
    } catch (err) {
      const name = (err as Error).name;
      const error =
        name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      return { startedAt, status: undefined, ok: false, error };
    }
  };

  const push = async (messageType: string, receipts: readonly unknown[]): Promise<PushOutcome> => {
    const url = options.url.replace("{messageType}", encodeURIComponent(messageType));
    const payload = JSON.stringify(receipts);
    const outcome: PushOutcome = {
      messageType,
      receipts: receipts.length,
      delivered: false,
      attempts: [],
      aborted: false,
    };
    for (let i = 0; i <= delays.length; i++) {
      if (i > 0) {
        await wait(delays[i - 1] as number);
      }
      if (closing.signal.aborted) {
        outcome.aborted = true;
        return outcome;
      }
      const result = await attempt(url, payload);
      outcome.attempts.push(result);
      if (result.ok) {
        outcome.delivered = true;
        return outcome;
      }
    }
    return outcome;
  };

  return {
    push,
    pushAll: (messageType, receipts) => {
      const batches: unknown[][] = [];
      for (let i = 0; i < receipts.length; i += batchSize) {
        batches.push(receipts.slice(i, i + batchSize));
      }
      return Promise.all(batches.map((b) => push(messageType, b)));
    },
    close: () => {
      closing.abort();
      closed ??= agent.close();
      return closed;
    },
  };
}
