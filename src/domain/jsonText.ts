/**
 * Checks on JSON *text* that the parsed value can no longer answer: whether JSON.parse rounded a
 * number (a numeric call_id of 20 digits becomes other digits), and which top-level array element
 * a problem belongs to, so that only that element is refused. And the UTF-8 decoding of bytes
 * that must be text.
 *
 * Hand-written because no library does this: JSON.parse's reviver sees a number's source text
 * only from Node 21 (`context.source`), and Node 20 must keep working; a full streaming parser
 * (stream-json) would double the cost of every push for a case that is almost never there. The
 * scan is one linear pass with no recursion, and only runs when the text holds a number that
 * could lose digits at all (the pre-check below).
 */
import { Buffer, isUtf8 } from "node:buffer";

import { numberToDecimal } from "./fields.js";
import { describeShapeProblem, elementTraits, findShapeProblem, UnparsableItem } from "./json.js";

/** 16 significant digits (a double holds 15 exactly) or a 3-digit exponent: worth a scan. */
const MAYBE_INEXACT = /(?:\d\.?){16}|[eE][+-]?\d{3}/;

/** `digits` without leading/trailing zeros and the power of ten of its last digit. */
function decimalValue(literal: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) {
    return literal;
  }
  const [, sign = "", int = "", frac = "", exp = "0"] = m;
  let digits = (int + frac).replace(/^0+/, "");
  if (digits === "") {
    return "0";
  }
  let power = Number(exp) - frac.length;
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  power += trailing;
  return `${sign}${digits}e${power}`;
}

/** Whether JSON.parse gives back exactly the decimal value `literal` wrote. */
export function isExactNumber(literal: string): boolean {
  const n = Number(literal);
  if (!Number.isFinite(n)) {
    return false;
  }
  return decimalValue(literal) === decimalValue(numberToDecimal(n));
}

export interface ElementSpan {
  start: number;
  end: number;
  /** The first number in it that JSON.parse would change, or null. */
  inexact: string | null;
}

const isDigitStart = (c: number) => c === 0x2d || (c >= 0x30 && c <= 0x39);
const isNumberChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;

/**
 * The top-level elements of a JSON text that JSON.parse has accepted (one span for a root that is
 * not an array), each with its first inexact number. Strings are skipped with their escapes.
 */
export function scanElements(text: string): ElementSpan[] {
  const spans: ElementSpan[] = [];
  let level = 0;
  let rootArray = false;
  let current: ElementSpan | null = null;
  const open = (at: number) => {
    current = { start: at, end: text.length, inexact: null };
    spans.push(current);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) {
      continue;
    }
    if (level === 0 && spans.length === 0 && !rootArray) {
      if (c === 0x5b) {
        rootArray = true;
        level = 1;
        continue;
      }
      open(i);
    } else if (rootArray && level === 1 && (c === 0x2c || c === 0x5d)) {
      if (current !== null) {
        (current as ElementSpan).end = i;
        current = null;
      }
      if (c === 0x5d) {
        level = 0;
      }
      continue;
    } else if (rootArray && level === 1 && current === null) {
      open(i);
    }
    if (c === 0x22) {
      // Skip the string: a backslash escapes the next character, whatever it is.
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) {
        i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      }
    } else if (c === 0x5b || c === 0x7b) {
      level++;
    } else if (c === 0x5d || c === 0x7d) {
      level--;
    } else if (isDigitStart(c)) {
      let j = i + 1;
      while (j < text.length && isNumberChar(text.charCodeAt(j))) {
        j++;
      }
      const literal = text.slice(i, j);
      const span = current as ElementSpan | null;
      if (span !== null && span.inexact === null && !isExactNumber(literal)) {
        span.inexact = literal;
      }
      i = j - 1;
    }
  }
  return spans;
}

const quote = (literal: string) => (literal.length > 40 ? `${literal.slice(0, 37)}...` : literal);

/**
 * `value` (JSON.parse of `text`) with every top-level element that must be refused while its
 * text is still at hand replaced by an UnparsableItem carrying that text and the reason: one
 * holding a number JSON.parse changed, or one nested too deeply ever to be serialised again
 * (its rejected row then still shows what it was).
 */
export function refuseUnsafeElements(text: string, value: unknown): unknown {
  const items: unknown[] = Array.isArray(value) ? value : [value];
  const deep = new Map<number, string>();
  let hasNumber = false;
  items.forEach((item, i) => {
    const traits = elementTraits(item);
    hasNumber ||= traits.hasNumber;
    if (traits.tooDeep) {
      const problem = findShapeProblem(item);
      deep.set(i, problem ? describeShapeProblem(problem) : "nested too deeply");
    }
  });
  // Numbers in strings are kept exactly; only a parsed number can have been rounded, so the
  // text is searched only when the value holds one (the regex was 4% of the push path's CPU).
  const maybeInexact = hasNumber && MAYBE_INEXACT.test(text);
  if (deep.size === 0 && !maybeInexact) {
    return value;
  }
  const spans = scanElements(text);
  let changed = false;
  const out = items.map((item, i) => {
    const span = spans[i];
    if (span === undefined) {
      return item;
    }
    const source = () => text.slice(span.start, span.end).trim();
    const deepReason = deep.get(i);
    if (deepReason !== undefined) {
      changed = true;
      return new UnparsableItem(deepReason, source());
    }
    if (maybeInexact && span.inexact !== null) {
      changed = true;
      return new UnparsableItem(
        `the number ${quote(span.inexact)} cannot be represented exactly (JSON.parse would change its digits; send it as a string)`,
        source(),
      );
    }
    return item;
  });
  if (!changed) {
    return value;
  }
  return Array.isArray(value) ? out : out[0];
}

/**
 * Bytes → text, refusing what is not UTF-8 (gzip, UTF-16, Latin-1) instead of silently turning
 * it into U+FFFD. The reason never quotes the content. A leading byte-order mark is dropped, as
 * TextDecoder does. (isUtf8 then toString: ~15% less CPU than a fatal TextDecoder, measured.)
 */
export function decodeUtf8(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; reason: string } {
  if (!isUtf8(bytes)) {
    return { ok: false, reason: `not valid UTF-8 text (${describeEncoding(bytes)})` };
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

function describeEncoding(bytes: Uint8Array): string {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return "it is gzip-compressed";
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return "it is UTF-16";
  }
  return "bad byte sequence";
}
