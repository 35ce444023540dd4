/** Small checks on values that came out of JSON.parse (or anything else untrusted). */

export type JsonObject = Record<string, unknown>;

/** A plain `{...}` object: not null, not an array, not a class instance (Date, Buffer, Map). */
export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** "array", "null", "string", ... for messages that say what we got instead. */
export function describeJsonType(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "array";
  }
  return typeof value;
}

/**
 * Keys that can reach Object.prototype when a receipt is later merged with spread,
 * Object.assign or a deep-merge helper. JSON.parse makes `"__proto__"` an ordinary own property,
 * so the parse itself is harmless; the danger is in what other code does with the object.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

/**
 * Deeper nesting than this is refused: receipts are flat, and the JSON.stringify that stores a
 * body is recursive (5,000 levels overflow its stack). Documented in the README ("Limits").
 */
export const MAX_JSON_DEPTH = 32;

export type ShapeProblem =
  | { kind: "forbidden-key"; path: string }
  | { kind: "too-deep"; path: string }
  | { kind: "bad-string"; path: string; problem: string }
  | { kind: "inexact-number"; path: string };

/**
 * Why PostgreSQL (text, jsonb) or a faithful copy could never hold this string, or null:
 * U+0000 (refused by text and jsonb) and lone UTF-16 surrogates (not Unicode; jsonb refuses the
 * escape, text would store U+FFFD).
 */
export function stringProblem(s: string): string | null {
  if (s.includes("\u0000")) {
    return "contains a NUL character (\\u0000), which PostgreSQL cannot store";
  }
  if (LONE_SURROGATE.test(s)) {
    return "contains a lone UTF-16 surrogate, which is not valid Unicode";
  }
  return null;
}

// With the u flag a surrogate pair is one code point, so only a lone surrogate matches.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * `s` with NUL and lone surrogates written as `\\uXXXX` escapes, so PostgreSQL text takes it:
 * for the quarantine, which must be able to keep whatever it is given (raw, reason, location).
 */
export function storableText(s: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is what is escaped
  return s.replace(/\u0000|\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A number JSON.parse may have rounded: an integer beyond ±2^53 (or not finite). */
function inexactNumber(n: number): boolean {
  return !Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n));
}

const childPath = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * Finds the first forbidden key (at any depth), a nesting deeper than MAX_JSON_DEPTH, a string
 * (key or value) that PostgreSQL cannot store, or a number that cannot be exact. Returns null
 * when the value is safe. Own keys only, so inherited names never match.
 *
 * Iterative (an explicit stack), so a value nested a million levels deep is reported, not a
 * stack overflow. Paths are only built on the way into a nested value: receipts are flat, so
 * the common case allocates no strings at all.
 */
export function findShapeProblem(value: unknown): ShapeProblem | null {
  const flat = flatObjectProblem(value);
  if (flat !== undefined) {
    return flat;
  }
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const v = top.value;
    if (typeof v === "string") {
      const problem = stringProblem(v);
      if (problem !== null) {
        return { kind: "bad-string", path: top.path || "(root)", problem };
      }
      continue;
    }
    if (typeof v === "number") {
      if (inexactNumber(v)) {
        return { kind: "inexact-number", path: top.path || "(root)" };
      }
      continue;
    }
    if (typeof v !== "object" || v === null) {
      continue;
    }
    if (top.depth >= MAX_JSON_DEPTH) {
      return { kind: "too-deep", path: top.path || "(root)" };
    }
    const entries: [string | number, unknown][] = Array.isArray(v)
      ? v.map((item: unknown, i) => [i, item])
      : Object.entries(v);
    // Pushed in reverse so the first problem in document order is found first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string | number, unknown];
      if (typeof key === "string") {
        if (FORBIDDEN_KEYS.has(key)) {
          return { kind: "forbidden-key", path: childPath(top.path, key) };
        }
        const problem = stringProblem(key);
        if (problem !== null) {
          return { kind: "bad-string", path: childPath(top.path, key), problem };
        }
      }
      if (
        child !== null &&
        (typeof child === "object" || typeof child === "string" || typeof child === "number")
      ) {
        stack.push({ value: child, path: childPath(top.path, key), depth: top.depth + 1 });
      }
    }
  }
  return null;
}

/**
 * findShapeProblem of an object with no nested object or array (the usual receipt), read in
 * place: the same checks in the same order (keys last to first, then values in order), without
 * the walk's entry arrays and stack frames. Undefined when `value` is not such an object.
 */
function flatObjectProblem(value: unknown): ShapeProblem | null | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  for (const key of keys) {
    const child = obj[key];
    if (typeof child === "object" && child !== null) {
      return undefined;
    }
  }
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as string;
    if (FORBIDDEN_KEYS.has(key)) {
      return { kind: "forbidden-key", path: key };
    }
    const problem = stringProblem(key);
    if (problem !== null) {
      return { kind: "bad-string", path: key, problem };
    }
  }
  for (const key of keys) {
    const child = obj[key];
    if (typeof child === "string") {
      const problem = stringProblem(child);
      if (problem !== null) {
        return { kind: "bad-string", path: key || "(root)", problem };
      }
    } else if (typeof child === "number" && inexactNumber(child)) {
      return { kind: "inexact-number", path: key || "(root)" };
    }
  }
  return null;
}

/**
 * Whether `value` nests deeper than MAX_JSON_DEPTH, and whether it holds a number anywhere: only
 * then can JSON.parse have rounded one, so a body of strings alone (the usual receipt) needs no
 * scan of its text for long digit runs (jsonText.ts). One iterative walk; a flat object, the
 * usual receipt, is read in place without the stack.
 */
export function elementTraits(value: unknown): { tooDeep: boolean; hasNumber: boolean } {
  if (typeof value === "number") {
    return { tooDeep: false, hasNumber: true };
  }
  if (typeof value !== "object" || value === null) {
    return { tooDeep: false, hasNumber: false };
  }
  let hasNumber = false;
  let nested = false;
  if (!Array.isArray(value)) {
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === "number") {
        hasNumber = true;
      } else if (typeof child === "object" && child !== null) {
        nested = true;
        break;
      }
    }
    if (!nested) {
      return { tooDeep: false, hasNumber };
    }
  }
  hasNumber = false;
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v === "number") {
      hasNumber = true;
      continue;
    }
    if (typeof v !== "object" || v === null) {
      continue;
    }
    if (depth >= MAX_JSON_DEPTH) {
      return { tooDeep: true, hasNumber };
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "number") {
        hasNumber = true;
      } else if (typeof child === "object" && child !== null) {
        stack.push([child, depth + 1]);
      }
    }
  }
  return { tooDeep: false, hasNumber };
}

/** Words a ShapeProblem as a rejection reason (without the message type). */
export function describeShapeProblem(problem: ShapeProblem): string {
  switch (problem.kind) {
    case "forbidden-key":
      return `field "${problem.path}" is not allowed (prototype pollution guard)`;
    case "too-deep":
      return `field "${problem.path}" is nested too deeply (more than ${MAX_JSON_DEPTH} levels)`;
    case "bad-string":
      return `field "${problem.path}" ${problem.problem}`;
    case "inexact-number":
      return `field "${problem.path}" is a number that cannot be represented exactly (send it as a string)`;
  }
}

/**
 * An item of a JSON text that was refused while it was still text (a number JSON.parse would
 * round, nesting too deep to ever serialise again): it travels in place of the parsed value, so
 * its neighbours go on, and intake quarantines `text` (its source, verbatim) with `reason`.
 */
export class UnparsableItem {
  constructor(
    readonly reason: string,
    readonly text: string,
  ) {}
}

/** Own-property read that never walks the prototype chain (`body.constructor` is Object). */
export function ownValue(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/**
 * The text kept in rejected_receipts.raw for a refused value: its source text when it was
 * refused as text, else its JSON. JSON.stringify recurses: a value nested thousands of levels
 * deep overflows its stack (a RangeError, caught here) and is described instead.
 */
export function rejectedText(raw: unknown): string {
  if (raw instanceof UnparsableItem) {
    return raw.text;
  }
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return "(not serialisable: nested too deeply)";
  }
}
