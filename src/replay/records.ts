/**
 * What the archive readers produce: receipts with the place they came from, or input that is
 * not a receipt at all (bad JSON, an MNS message whose body does not decode) with the reason.
 * `expandValue` turns one parsed JSON value (an array element, a line, an XML <Message>) into
 * records: arrays give their items, MNS messages their decoded Base64 body. Pure.
 */
import { decodeMnsBody } from "../domain/envelope.js";
import { isPlainObject, ownValue, rejectedText, type JsonObject } from "../domain/json.js";

export interface ReceiptRecord {
  kind: "receipt";
  raw: unknown;
  /** `file:line` */
  location: string;
  /** A `MessageType`/`messageType` property of the receipt or of its MNS message, if any. */
  type: string | null;
}

export interface BadRecord {
  kind: "bad";
  /** The input as text, kept in rejected_receipts. */
  raw: string;
  reason: string;
  location: string;
  type: string | null;
}

export type ReplayRecord = ReceiptRecord | BadRecord;

/** rejected_receipts.raw of unparseable input is cut here; the reason says so. */
export const MAX_RAW_CHARS = 256 * 1024;

export function badRecord(
  raw: string,
  reason: string,
  location: string,
  type: string | null = null,
): BadRecord {
  if (raw.length > MAX_RAW_CHARS) {
    return {
      kind: "bad",
      raw: raw.slice(0, MAX_RAW_CHARS),
      reason: `${reason} (input cut to its first ${MAX_RAW_CHARS} characters)`,
      location,
      type,
    };
  }
  return { kind: "bad", raw, reason, location, type };
}

/** A `MessageType` or `messageType` string property. */
export function explicitType(value: unknown): string | null {
  if (!isPlainObject(value)) {
    return null;
  }
  for (const key of ["MessageType", "messageType"]) {
    const v = ownValue(value, key);
    if (typeof v === "string" && v.trim() !== "") {
      return v.trim();
    }
  }
  return null;
}

/** The Base64 body of an MNS message as the SDKs dump it (`MessageBody`, Java's `messageBody`). */
function mnsBody(value: JsonObject): string | undefined {
  const body = ownValue(value, "MessageBody") ?? ownValue(value, "messageBody");
  return typeof body === "string" ? body : undefined;
}

function mnsId(value: JsonObject): string | null {
  const id = ownValue(value, "MessageId") ?? ownValue(value, "messageId");
  return typeof id === "string" || typeof id === "number" ? String(id) : null;
}

/** Whether a value is an MNS message (rather than a receipt): it has a string MessageBody. */
export function isMnsMessage(value: unknown): value is JsonObject {
  return isPlainObject(value) && mnsBody(value) !== undefined;
}

function fromMnsMessage(message: JsonObject, location: string, out: ReplayRecord[]): void {
  const body = mnsBody(message) ?? "";
  const id = mnsId(message);
  const wrapperType = explicitType(message);
  const decoded = decodeMnsBody(body);
  if (decoded.kind === "invalid") {
    out.push(
      badRecord(
        body,
        id === null ? decoded.reason : `MNS message ${id}: ${decoded.reason}`,
        location,
        wrapperType,
      ),
    );
    return;
  }
  for (const raw of decoded.items) {
    out.push({ kind: "receipt", raw, location, type: explicitType(raw) ?? wrapperType });
  }
}

/**
 * Records of one parsed value found at `location`:
 * - an array gives one record per item (a push body, an NDJSON line holding an array);
 *   nested arrays are not receipts and are reported;
 * - an MNS message (an object with a string `MessageBody`) gives the receipts of its decoded
 *   body, or one bad record when the body is not Base64/JSON;
 * - `{"Messages": [...]}` or `{"Messages": {"Message": [...]}}` (a BatchReceiveMessage answer
 *   as JSON) gives the records of its messages;
 * - anything else is one receipt (intake validates it).
 */
export function expandValue(value: unknown, location: string): ReplayRecord[] {
  const out: ReplayRecord[] = [];
  const one = (v: unknown, nested: boolean) => {
    if (Array.isArray(v)) {
      if (nested) {
        out.push(badRecord(rejectedText(v), "an array inside an array is not a receipt", location));
        return;
      }
      for (const item of v) {
        one(item, true);
      }
      return;
    }
    if (isMnsMessage(v)) {
      fromMnsMessage(v, location, out);
      return;
    }
    const messages = isPlainObject(v) ? wrappedMessages(v) : undefined;
    if (messages !== undefined) {
      for (const m of messages) {
        one(m, true);
      }
      return;
    }
    out.push({ kind: "receipt", raw: v, location, type: explicitType(v) });
  };
  one(value, false);
  return out;
}

function wrappedMessages(value: JsonObject): unknown[] | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "Messages") {
    return undefined;
  }
  let m = ownValue(value, "Messages");
  if (isPlainObject(m) && Object.keys(m).length === 1) {
    m = ownValue(m, "Message");
  }
  if (Array.isArray(m)) {
    return m;
  }
  return isMnsMessage(m) ? [m] : undefined;
}
