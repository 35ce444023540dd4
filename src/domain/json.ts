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

/** Deeper nesting than this is refused: receipts are flat, and recursion must stay bounded. */
export const MAX_JSON_DEPTH = 32;

export type ShapeProblem =
  { kind: "forbidden-key"; path: string } | { kind: "too-deep"; path: string };

/**
 * Finds the first forbidden key (at any depth) or a nesting deeper than MAX_JSON_DEPTH.
 * Returns null when the value is safe. Own keys only, so inherited names never match.
 */
export function findShapeProblem(value: unknown, path = "", depth = 0): ShapeProblem | null {
  if (typeof value !== "object" || value === null) {
    return null;
  }
  if (depth >= MAX_JSON_DEPTH) {
    return { kind: "too-deep", path: path || "(root)" };
  }
  // Paths are only built on the way into a nested object or to report a problem: receipts are
  // flat, so the common case allocates no strings at all.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null) {
        const found = findShapeProblem(item, `${path}[${i}]`, depth + 1);
        if (found) {
          return found;
        }
      }
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      return { kind: "forbidden-key", path: path ? `${path}.${key}` : key };
    }
    const child = (value as JsonObject)[key];
    if (typeof child === "object" && child !== null) {
      const found = findShapeProblem(child, path ? `${path}.${key}` : key, depth + 1);
      if (found) {
        return found;
      }
    }
  }
  return null;
}

/** Own-property read that never walks the prototype chain (`body.constructor` is Object). */
export function ownValue(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}
