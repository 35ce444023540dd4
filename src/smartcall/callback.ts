/**
 * The SmartCall ASR callback request (docs/alibaba.md §1.6; 智能语音交互呼出回调HTTP接口): parameters
 * `call_id`, `timestamp` (epoch ms), `content_type` and `content`, a JSON string. The wire
 * encoding is not documented (the doc's only sample is a query string), so a form-urlencoded
 * body, a JSON body and the query string are all read; a body parameter wins over the same one
 * in the query. Pure: no I/O.
 */
import { z } from "zod";

import { describeJsonError } from "../domain/envelope.js";
import {
  describeShapeProblem,
  FORBIDDEN_KEYS,
  findShapeProblem,
  isPlainObject,
} from "../domain/json.js";
import { receiptYearProblem } from "../domain/time.js";
import type { DialogueTurn } from "../store/dialogueTurns/turns.js";

/** The documented content types; others are stored as sent and answered like any turn. */
export const SMART_CALL_CONTENT_TYPES = [
  "normal",
  "mute",
  "timebreak",
  "dtmf",
  "parallel_transfer",
] as const;

/**
 * One parsed callback: a turn of the conversation, with the fields its dialogue_turns row
 * stores (one definition, src/store/dialogueTurns/turns.ts) and the request's timestamp.
 */
export interface SmartCallTurn extends DialogueTurn {
  /** The `timestamp` parameter in epoch ms (10-digit values are taken as seconds). */
  timestampMs: number;
}

export type CallbackParseResult = { ok: true; turn: SmartCallTurn } | { ok: false; reason: string };

export interface CallbackRequest {
  /** The request's Content-Type header, if any. */
  contentType: string | undefined;
  /** The body as text ("" when there was none). */
  body: string;
  /** The query string without `?`, the push token already removed. */
  query: string;
}

export type ReadParamsResult =
  { ok: true; params: Record<string, unknown> } | { ok: false; reason: string };

/** The parameter the push token travels in; never stored, never logged. */
export const TOKEN_PARAM = "token";

/** The query string without the push token, for storage and quarantine. */
export function queryWithoutToken(search: string): string {
  const params = new URLSearchParams(search);
  params.delete(TOKEN_PARAM);
  return params.toString();
}

function fromSearchParams(
  search: URLSearchParams,
  into: Record<string, unknown>,
): string | undefined {
  for (const [key, value] of search) {
    if (FORBIDDEN_KEYS.has(key)) {
      return `forbidden parameter name "${key}"`;
    }
    // The first occurrence wins, as in most form decoders.
    if (!Object.hasOwn(into, key)) {
      into[key] = value;
    }
  }
  return undefined;
}

function looksLikeJson(contentType: string | undefined, body: string): boolean {
  if (contentType !== undefined && /json/i.test(contentType)) {
    return true;
  }
  const form = contentType !== undefined && /x-www-form-urlencoded/i.test(contentType);
  return !form && body.trimStart().startsWith("{");
}

/** Merges query and body parameters (body first); any encoding of the three is accepted. */
export function readCallbackParams(req: CallbackRequest): ReadParamsResult {
  const fromBody: Record<string, unknown> = {};
  if (req.body.trim() !== "") {
    if (looksLikeJson(req.contentType, req.body)) {
      const parsed = jsonObject(
        req.body,
        "body",
        "a JSON body must be an object of callback parameters",
      );
      if (!parsed.ok) {
        return parsed;
      }
      Object.assign(fromBody, parsed.value);
    } else {
      const problem = fromSearchParams(new URLSearchParams(req.body), fromBody);
      if (problem) {
        return { ok: false, reason: problem };
      }
    }
  }
  const fromQuery: Record<string, unknown> = {};
  const problem = fromSearchParams(new URLSearchParams(req.query), fromQuery);
  if (problem) {
    return { ok: false, reason: problem };
  }
  delete fromQuery[TOKEN_PARAM];
  delete fromBody[TOKEN_PARAM];
  return { ok: true, params: { ...fromQuery, ...fromBody } };
}

// ---------------------------------------------------------------------------------------------
// Field coercion: numbers and numeric strings are both accepted, empty strings mean absent.

const absent = (v: unknown) =>
  v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/** Scalar → trimmed string; absent → undefined (so `required` messages can say "missing"). */
const scalarText = (v: unknown) => {
  if (absent(v)) {
    return undefined;
  }
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") {
    return String(v);
  }
  return typeof v === "string" ? v.trim() : v;
};

const requiredText = (name: string, max: number) =>
  z.preprocess(
    scalarText,
    z
      .string({
        error: (iss) => (iss.input === undefined ? `${name} is missing` : `${name} must be text`),
      })
      .max(max, `${name} is longer than ${max} characters`),
  );

const envelopeSchema = z.object({
  call_id: requiredText("call_id", 128),
  timestamp: requiredText("timestamp", 32)
    .refine((s) => /^\d{1,16}$/.test(s), "timestamp must be epoch milliseconds (digits only)")
    .transform((s) => {
      const n = Number(s);
      // The doc says milliseconds; a 10-digit value can only be seconds.
      return n < 1e11 ? n * 1000 : n;
    })
    .refine((ms) => ms > 0 && !Number.isNaN(new Date(ms).getTime()), "timestamp is out of range")
    // Year 275760 is a valid Date but no turn time: the same range as receipt times (time.ts).
    .refine(
      (ms) => Number.isNaN(new Date(ms).getTime()) || receiptYearProblem(new Date(ms)) === null,
      {
        error: (iss) =>
          `timestamp is out of range (${receiptYearProblem(new Date(Number(iss.input))) ?? "?"})`,
      },
    ),
  content_type: requiredText("content_type", 64).refine(
    (s) => /^[A-Za-z0-9_.-]+$/.test(s),
    "content_type must be a word such as normal, mute, timebreak, dtmf, parallel_transfer",
  ),
  content: z.unknown(),
});

/** Optional content fields never fail a turn: what cannot be read is NULL in its column. */
function optionalText(v: unknown, trim = true): string | null {
  if (absent(v)) {
    return null;
  }
  if (typeof v === "string") {
    return trim ? v.trim() : v;
  }
  if (typeof v === "number" || typeof v === "boolean") {
    return String(v);
  }
  return null;
}

const INT4_MAX = 2_147_483_647;

function optionalInt(v: unknown): number | null {
  const s = optionalText(v);
  if (s === null || !/^-?\d+$/.test(s)) {
    return null;
  }
  const n = Number(s);
  return Math.abs(n) <= INT4_MAX ? n : null;
}

function decodeContent(
  raw: unknown,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  if (raw === undefined || raw === null) {
    return { ok: false, reason: "content is missing" };
  }
  if (typeof raw === "string" && raw.trim() === "") {
    return { ok: false, reason: "content is empty (expected a JSON object)" };
  }
  return jsonObject(raw, "content", "content must be a JSON object");
}

/**
 * The body and its `content` parameter alike: a JSON object (parsed first when `raw` is text)
 * with no hostile shape; a reason naming `name` otherwise.
 */
function jsonObject(
  raw: unknown,
  name: string,
  notObject: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return { ok: false, reason: `${name} is not valid JSON: ${describeJsonError(err)}` };
    }
  }
  if (!isPlainObject(value)) {
    return { ok: false, reason: notObject };
  }
  const problem = findShapeProblem(value);
  if (problem) {
    return { ok: false, reason: `${name}: ${describeShapeProblem(problem)}` };
  }
  return { ok: true, value };
}

/** Validates the merged parameters of one callback into a turn, or says what is wrong. */
export function parseCallback(params: Record<string, unknown>): CallbackParseResult {
  const env = envelopeSchema.safeParse(params);
  if (!env.success) {
    return { ok: false, reason: env.error.issues.map((i) => i.message).join("; ") };
  }
  const content = decodeContent(env.data.content);
  if (!content.ok) {
    return content;
  }
  // Every parameter (form and query ones too): PostgreSQL text and jsonb cannot hold U+0000 or
  // a lone surrogate, and such a turn must be refused here, not fail as a storage error.
  const bad = findShapeProblem(params);
  if (bad) {
    return { ok: false, reason: describeShapeProblem(bad) };
  }
  const c = content.value;
  const { call_id: callId, timestamp: timestampMs, content_type: contentType } = env.data;
  if (callId === "") {
    return { ok: false, reason: "call_id is empty" };
  }
  return {
    ok: true,
    turn: {
      callId,
      timestampMs,
      turnTime: new Date(timestampMs),
      contentType,
      role: optionalText(c.role),
      identity: optionalText(c.identity),
      words: optionalText(c.words, false),
      dtmf: optionalText(c.dtmf_digits),
      beginOffsetMs: optionalInt(c.begin_offset),
      endOffsetMs: optionalInt(c.end_offset),
      dynamicId: optionalText(c.dynamic_id),
      content: c,
      params,
    },
  };
}
