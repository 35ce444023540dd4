/**
 * Smart voice interaction (SmartCall) conversations, played against a callback endpoint the way
 * the platform does (docs/alibaba.md §1.6; 智能语音交互呼出回调HTTP接口): one POST per recognised turn —
 * form-encoded by default, `content` a JSON string — waiting for each answer before the next
 * turn, carrying the answered `dynamic_id` into the next callback, and stopping at `hangup`.
 * The conversations themselves come from dialogue.ts.
 */
import { Agent, request } from "undici";

import { formatBeijing } from "./clock.js";
import type { DialogueTurn } from "./dialogue.js";

export interface SmartCallPeer {
  callId: string;
  /** When the call was answered (epoch ms); default: now, when the play starts. */
  startTime?: number | undefined;
  /** The user's number, sent as `identity` of speech turns. */
  callee?: string | undefined;
}

/** The callback parameters of one turn, as the platform sends them (all strings). */
export function smartCallParams(
  call: SmartCallPeer & { startTime: number },
  turn: DialogueTurn,
  dynamicId?: string,
): Record<string, string> {
  const at = call.startTime + turn.atMs;
  const dyn = dynamicId === undefined ? {} : { dynamic_id: dynamicId };
  let content: Record<string, string>;
  switch (turn.contentType) {
    case "normal":
      content = {
        role: turn.role ?? "B",
        identity: call.callee ?? "id2",
        words: turn.words ?? "",
        begin_offset: String(turn.beginOffsetMs ?? 0),
        end_offset: String(turn.endOffsetMs ?? 0),
        begin_time: formatBeijing(call.startTime),
        is_playing: "false",
        asr_begin_time: String(call.startTime + (turn.beginOffsetMs ?? 0)),
        asr_end_time: String(call.startTime + (turn.endOffsetMs ?? 0)),
        ...dyn,
      };
      break;
    case "dtmf":
      content = { dtmf_digits: turn.dtmf ?? "noInputTimeout", ...dyn };
      break;
    case "timebreak":
      content = {
        current_media_code: "reply.wav",
        asr_begin_time: String(at - 800),
        play_begin_time: String(at - 2000),
        ...dyn,
      };
      break;
    case "mute":
      content = { ...dyn };
      break;
  }
  return {
    call_id: call.callId,
    timestamp: String(at),
    content_type: turn.contentType,
    content: JSON.stringify(content),
  };
}

export type SmartCallEncoding = "form" | "json" | "query";

export interface PlaySmartCallOptions {
  /** The callback endpoint, e.g. http://127.0.0.1:8080/smart-call/callback. */
  url: string;
  /** Sent as `?token=`. */
  token?: string | undefined;
  call: SmartCallPeer;
  turns: readonly DialogueTurn[];
  /** How parameters travel; default form (application/x-www-form-urlencoded). */
  encoding?: SmartCallEncoding;
  /** Send each turn this many times, as a platform retry would; default 1. */
  deliveries?: number;
  /** Per-request deadline; default 5 s. */
  timeoutMs?: number;
}

export interface SmartCallExchange {
  turnIndex: number;
  /** 1 for the first delivery of the turn, 2 for its retry… */
  delivery: number;
  params: Record<string, string>;
  status: number | undefined;
  action: string | undefined;
  actionCode: string | undefined;
  /** The answer's `data` object. */
  data: Record<string, unknown> | undefined;
  error: string | undefined;
  ms: number;
}

export interface SmartCallPlay {
  exchanges: SmartCallExchange[];
  /** The action answered to each turn sent (its first delivery), in order. */
  actions: Array<string | undefined>;
  /** Turns sent before the call ended (all of them unless a hangup came first). */
  turnsSent: number;
  hungUp: boolean;
}

function encode(
  url: string,
  token: string | undefined,
  params: Record<string, string>,
  encoding: SmartCallEncoding,
): { url: string; headers: Record<string, string>; body: string | undefined } {
  const u = new URL(url);
  if (token !== undefined) {
    u.searchParams.set("token", token);
  }
  switch (encoding) {
    case "form":
      return {
        url: u.toString(),
        headers: { "content-type": "application/x-www-form-urlencoded;charset=utf-8" },
        body: new URLSearchParams(params).toString(),
      };
    case "json":
      return {
        url: u.toString(),
        headers: { "content-type": "application/json;charset=utf-8" },
        body: JSON.stringify(params),
      };
    case "query":
      for (const [k, v] of Object.entries(params)) {
        u.searchParams.set(k, v);
      }
      return { url: u.toString(), headers: {}, body: undefined };
  }
}

/** Plays one conversation against the callback endpoint; never throws for HTTP failures. */
export async function playSmartCall(options: PlaySmartCallOptions): Promise<SmartCallPlay> {
  const agent = new Agent({ keepAliveTimeout: 4_000 });
  const call = { ...options.call, startTime: options.call.startTime ?? Date.now() };
  const deliveries = Math.max(1, options.deliveries ?? 1);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const exchanges: SmartCallExchange[] = [];
  const actions: Array<string | undefined> = [];
  let dynamicId: string | undefined;
  let hungUp = false;
  let turnsSent = 0;
  try {
    for (const [turnIndex, turn] of options.turns.entries()) {
      const params = smartCallParams(call, turn, dynamicId);
      turnsSent++;
      let first: SmartCallExchange | undefined;
      for (let delivery = 1; delivery <= deliveries; delivery++) {
        const ex = await exchange(turnIndex, delivery, params);
        exchanges.push(ex);
        first ??= ex;
      }
      actions.push(first?.action);
      const next = first?.data?.dynamic_id;
      if (typeof next === "string" && next !== "") {
        dynamicId = next;
      }
      if (first?.action === "hangup") {
        hungUp = true;
        break;
      }
    }
  } finally {
    await agent.close();
  }
  return { exchanges, actions, turnsSent, hungUp };

  async function exchange(
    turnIndex: number,
    delivery: number,
    params: Record<string, string>,
  ): Promise<SmartCallExchange> {
    const started = Date.now();
    const req = encode(options.url, options.token, params, options.encoding ?? "form");
    const base = { turnIndex, delivery, params };
    try {
      const res = await request(req.url, {
        method: "POST",
        dispatcher: agent,
        headers: req.headers,
        body: req.body ?? null,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      let data: Record<string, unknown> | undefined;
      try {
        const body = JSON.parse(text) as { result?: unknown; data?: unknown };
        if (body.result === "success" && typeof body.data === "object" && body.data !== null) {
          data = body.data as Record<string, unknown>;
        }
      } catch {
        // not JSON: reported below
      }
      const action = typeof data?.action === "string" ? data.action : undefined;
      const code = data?.action_code;
      return {
        ...base,
        status: res.statusCode,
        action,
        actionCode: typeof code === "string" ? code : undefined,
        data,
        error:
          res.statusCode === 200 && action !== undefined
            ? undefined
            : `HTTP ${res.statusCode}: ${text.slice(0, 200)}`,
        ms: Date.now() - started,
      };
    } catch (err) {
      return {
        ...base,
        status: undefined,
        action: undefined,
        actionCode: undefined,
        data: undefined,
        error: (err as Error).message,
        ms: Date.now() - started,
      };
    }
  }
}
