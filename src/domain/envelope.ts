/**
 * The envelopes receipts arrive in (docs/alibaba.md §2.4, §3, §7): an HTTP push body (JSON array;
 * the console's test push is a lone object), an MNS MessageBody (Base64 of UTF-8 JSON, one
 * object; arrays accepted defensively), and for replay, guessing a receipt's type from its fields.
 */
import { describeJsonType, isPlainObject, ownValue, UnparsableItem } from "./json.js";
import { refuseUnsafeElements } from "./jsonText.js";
import type { KnownMessageType } from "./schemas.js";

export type EnvelopeResult =
  { kind: "items"; items: unknown[] } | { kind: "test" } | { kind: "invalid"; reason: string };

export type MnsBodyResult = Exclude<EnvelopeResult, { kind: "test" }>;

/**
 * JSON.parse's complaint without the excerpt of the input it quotes (V8: `Unexpected token 'x',
 * "x138123456…" is not valid JSON`): that excerpt can carry a phone number into a log line, or a
 * NUL into a reason. Only the offending character (one) is kept, escaped.
 */
export function describeJsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const head = message
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, "")
    .replace(/ in JSON at position/, " at position");
  const escaped = head.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what is escaped
    /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.slice(0, 200);
}

/**
 * JSON.parse that reports instead of throwing, and tolerates a UTF-8 byte-order mark. A
 * top-level element holding a number that JSON.parse would round comes back as an
 * UnparsableItem (jsonText.ts), so only it is refused. (JSON.parse itself is iterative in V8:
 * any depth parses; the depth limit is applied to the parsed value, see json.ts.)
 */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const body = text.replace(/^\uFEFF/, "");
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch (err) {
    return { ok: false, reason: `not valid JSON (${describeJsonError(err)})` };
  }
  return { ok: true, value: refuseUnsafeElements(body, value) };
}

/**
 * The console's "save and test" push is `{"json":"test-content"}` (docs/alibaba.md §3). Recognised
 * as an object whose only key is `json` with a string value, so a changed test text still counts as
 * a test rather than being stored as a receipt.
 */
export function isTestPush(value: unknown): boolean {
  if (!isPlainObject(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "json" && typeof value.json === "string";
}

/** Items of a parsed array or object; anything else is not an envelope. */
function toItems(value: unknown, what: string): MnsBodyResult {
  if (Array.isArray(value)) {
    return { kind: "items", items: value };
  }
  if (isPlainObject(value) || value instanceof UnparsableItem) {
    return { kind: "items", items: [value] };
  }
  return {
    kind: "invalid",
    reason: `${what} must be a JSON array or object, got ${describeJsonType(value)}`,
  };
}

/**
 * HTTP push body → receipts. A JSON array gives its items (each validated later, so one bad item
 * does not reject its siblings), a single object one item, the test push `{ kind: "test" }`.
 */
export function parsePushBody(text: string): EnvelopeResult {
  if (text.trim() === "") {
    return { kind: "invalid", reason: "push body is empty" };
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    return { kind: "invalid", reason: `push body is ${parsed.reason}` };
  }
  if (isTestPush(parsed.value)) {
    return { kind: "test" };
  }
  return toItems(parsed.value, "push body");
}

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * MNS MessageBody → receipts. Base64 of UTF-8 JSON per the docs; a body that already is JSON
 * (starts with `{` or `[`) is parsed as is, since some SDKs and tools decode before handing it on.
 * Base64 is checked strictly (Buffer.from would silently skip bad characters) and the bytes must
 * be valid UTF-8, so a corrupt message is reported rather than half-decoded.
 */
export function decodeMnsBody(messageBody: string): MnsBodyResult {
  const trimmed = messageBody.trim().replace(/^\uFEFF/, "");
  if (trimmed === "") {
    return { kind: "invalid", reason: "MNS message body is empty" };
  }
  let json = trimmed;
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) {
    const compact = trimmed.replace(/\s+/g, ""); // MIME-style line breaks are allowed
    const isStd = BASE64.test(compact);
    if (!isStd && !BASE64_URL.test(compact)) {
      return { kind: "invalid", reason: "MNS message body is neither JSON nor Base64" };
    }
    const bytes = Buffer.from(compact, isStd ? "base64" : "base64url");
    try {
      json = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return { kind: "invalid", reason: "MNS message body is Base64 but not UTF-8 text" };
    }
  }
  const parsed = parseJson(json);
  if (!parsed.ok) {
    return { kind: "invalid", reason: `MNS message body is ${parsed.reason}` };
  }
  return toItems(parsed.value, "MNS message body");
}

/** A field counts as present when the key exists with a non-null value ("" included: an
 * unanswered call's VoiceReport has `"end_time": ""`, and the key still tells its shape). */
function has(obj: Record<string, unknown>, key: string): boolean {
  const v = ownValue(obj, key);
  return v !== undefined && v !== null;
}

/**
 * Guesses the type of a receipt that came without one (replay, README "Replaying archives"):
 * record_file → VoiceRecordReport; status_time or biz_id → VoiceCallReport; call_id with
 * end_time, duration or status_msg → VoiceReport; otherwise null (the caller must be told).
 */
export function inferMessageType(receipt: unknown): KnownMessageType | null {
  if (!isPlainObject(receipt)) {
    return null;
  }
  if (has(receipt, "record_file")) {
    return "VoiceRecordReport";
  }
  if (has(receipt, "status_time") || has(receipt, "biz_id")) {
    return "VoiceCallReport";
  }
  if (
    has(receipt, "call_id") &&
    (has(receipt, "end_time") || has(receipt, "duration") || has(receipt, "status_msg"))
  ) {
    return "VoiceReport";
  }
  return null;
}
