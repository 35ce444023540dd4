/**
 * The JSON text a receipt's body is stored as. Either JSON.stringify of the parsed receipt, or,
 * for an HTTP push whose every element validated, a reference to the element in the push body's
 * own bytes (store/receipts/insert.ts sends those bytes to PostgreSQL once per statement): the
 * daemon then neither serialises each receipt again nor builds a string of all of them.
 */
import { scanElements } from "../domain/jsonText.js";
import type { ArrayElement } from "../store/receipts/insert.js";

/**
 * Why PostgreSQL's jsonb could never store this JSON text, or null. JSON.stringify escapes only
 * U+0000 and lone UTF-16 surrogates as \u sequences among the characters that matter here, and
 * jsonb refuses both; such a receipt would fail its whole batch on every retry (a 503 loop that
 * ends with Alibaba giving up on the valid receipts beside it), so it is quarantined instead.
 * The even run of backslashes before the escape tells an escape from the text "\\u0000".
 */
export function unstorableJson(json: string): string | null {
  // No "\u" at all (nearly every receipt): nothing to find, and no regex run.
  if (!json.includes("\\u")) {
    return null;
  }
  const m = /(?:^|[^\\])(?:\\\\)*\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})/.exec(json);
  if (!m) {
    return null;
  }
  return m[1] === "0000"
    ? "contains a NUL character (\\u0000), which PostgreSQL cannot store"
    : `contains a lone UTF-16 surrogate (\\u${m[1]}), which is not valid Unicode and PostgreSQL cannot store`;
}

/** A validated receipt as JSON text, or why PostgreSQL could not store it. */
export function bodyText(raw: unknown): { json: string; unstorable: string | null } {
  // Validation came first: it bounds the depth, so this stringify cannot overflow.
  const json = JSON.stringify(raw);
  return { json, unstorable: unstorableJson(json) };
}

/** The text of an element (for the quarantine, or to store it alone): rare, so scanned here. */
export function elementText(element: ArrayElement): string {
  const text = element.array.toString("utf8");
  const span = scanElements(text)[element.index];
  return span ? text.slice(span.start, span.end).trim() : "null";
}
