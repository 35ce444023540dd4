/**
 * Dedup keys. The same receipt can arrive through MNS, HTTP push (re-pushed after a timeout) and
 * replay, with numbers as strings in one and JSON numbers in another and keys in any order
 * (docs/alibaba.md §3 "回执消息不保证幂等性"). The key is derived from the receipt's natural identity, never
 * from the raw bytes, so all those deliveries collapse into one `receipts` row.
 *
 * Format: "r" + 64 lowercase hex chars of sha256(identity), 65 chars in all. The key is also the
 * BullMQ job id: BullMQ forbids ':' and integer-looking custom ids, and a bare hex digest can
 * (rarely) be all digits; the fixed letter prefix rules both out for every key while keeping the
 * full 256-bit digest (no truncation, so no extra collision risk) and a fixed length.
 */
import { hash } from "node:crypto";

import { numberToDecimal } from "./fields.js";
import { formatBeijingTime } from "./time.js";

export const DEDUP_KEY_PATTERN = /^r[0-9a-f]{64}$/;
export const DEDUP_KEY_LENGTH = 65;

/** One-shot crypto.hash (Node ≥ 20.12): same digest as createHash, without the Hash object. */
export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

/**
 * Key of an identity tuple. JSON.stringify of the array is the separator-free encoding: no value
 * containing '^', '|' or quotes can make two different tuples serialise alike.
 */
export function dedupKeyOf(identity: readonly (string | null)[]): string {
  return `r${sha256Hex(JSON.stringify(identity))}`;
}

/**
 * The recording URL without query string or fragment: the OSS URL is signed per delivery
 * (`Expires`, `Signature` change) while the object path identifies the recording.
 */
export function recordFileIdentity(recordFile: string): string {
  const cut = recordFile.search(/[?#]/);
  return (cut === -1 ? recordFile : recordFile.slice(0, cut)).trim();
}

/** VoiceReport: one CDR per call. */
export function voiceReportKey(callId: string): string {
  return dedupKeyOf(["VoiceReport", callId]);
}

export interface CallEventIdentity {
  callId: string;
  statusCode: string;
  statusTime: Date | null;
  dtmf: string | null;
}

/** VoiceCallReport: one per (call, state, time, keys); mirrors the `call_events` unique key. */
export function callEventKey(e: CallEventIdentity): string {
  const time = e.statusTime === null ? null : formatBeijingTime(e.statusTime);
  return dedupKeyOf(["VoiceCallReport", e.callId, e.statusCode, time, e.dtmf]);
}

/** VoiceRecordReport: one per (call, recording object). */
export function recordingKey(callId: string, recordFile: string): string {
  return dedupKeyOf(["VoiceRecordReport", callId, recordFileIdentity(recordFile)]);
}

/** Types we do not model: the type plus a hash of the canonical body. */
export function unknownReceiptKey(messageType: string, body: unknown): string {
  return dedupKeyOf([messageType, sha256Hex(canonicalJson(body))]);
}

/** Strings shaped like a JSON number (no exponent, no leading zeros): "10", "-0.50". */
const NUMERIC_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

function canonicalNumberText(text: string): string {
  let t = text;
  if (t.includes(".")) {
    t = t.replace(/0+$/, "").replace(/\.$/, "");
  }
  return t === "-0" ? "0" : t;
}

function canonicalValue(value: unknown): unknown {
  if (typeof value === "number") {
    return Number.isFinite(value) ? canonicalNumberText(numberToDecimal(value)) : null;
  }
  if (typeof value === "string") {
    const trimmed = value.trim();
    // Leading zeros stay significant ("007" is an id, not 7).
    return NUMERIC_TEXT.test(trimmed) ? canonicalNumberText(trimmed) : value;
  }
  if (Array.isArray(value)) {
    // Positions matter in arrays, so absent items become null rather than disappearing.
    return value.map((v) => (isDropped(v) ? null : canonicalValue(v)));
  }
  if (typeof value === "object" && value !== null) {
    // Null prototype: assigning a "__proto__" key makes an own property, never a prototype.
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (!isDropped(v)) {
        out[key] = canonicalValue(v);
      }
    }
    return out;
  }
  return value; // boolean
}

function isDropped(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "");
}

/**
 * Canonical JSON of a receipt body: object keys sorted recursively, numbers and numeric strings
 * rendered as the same decimal text (8, "8", "8.0" → "8"), empty/whitespace strings and nulls in
 * objects dropped (they mean "absent", docs/alibaba.md §7). Meant for hashing, not for storing.
 */
export function canonicalJson(body: unknown): string {
  return JSON.stringify(canonicalValue(body)) ?? "null";
}
