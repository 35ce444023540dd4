/**
 * The parsers that turn one environment variable's text into its value, shared by every section
 * of the configuration (src/config/). An empty or blank variable counts as unset, so that
 * `VAR=` in a compose file means the default. Each parser words its own problem; the loader
 * prefixes the variable's name.
 */
import { z } from "zod";

/** What a section's variables parse to (the zod shape `S` of its `…Env` object). */
export type Parsed<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>>;

export const emptyAsUndefined = (v: unknown) =>
  typeof v === "string" && v.trim() === "" ? undefined : v;

/** Trimmed and lower-cased; blank counts as unset. */
export const lowerCased = (v: unknown) =>
  typeof v === "string" ? v.trim().toLowerCase() || undefined : v;

export const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

export const stringWithDefault = (fallback: string) =>
  z.preprocess(emptyAsUndefined, z.string().default(fallback));

export function intInRange<F extends number | undefined>(min: number, max: number, fallback: F) {
  return z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .optional()
      .transform((s, ctx): number | F => {
        if (s === undefined) {
          return fallback;
        }
        const n = Number(s.trim());
        if (!/^-?\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
          ctx.addIssue({
            code: "custom",
            message: `must be a whole number from ${min} to ${max}, got "${s}"`,
          });
          return z.NEVER;
        }
        return n;
      }),
  );
}

export function isUrlWith(s: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

export function url(fallback: string, protocols: readonly string[]) {
  return z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(fallback)
      .refine((s) => isUrlWith(s, protocols), {
        message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
      }),
  );
}

/** An HTTP(S) endpoint without trailing slash: @alicloud/mns signs `/queues/…` but would send `//queues/…`. */
export function endpoint(fallback: string) {
  return url(fallback, ["http:", "https:"]).transform((s) => s.replace(/\/+$/, ""));
}

/** on/off (also true/false, 1/0, yes/no); undefined when unset, so each use picks its default. */
export const onOff = z.preprocess(
  lowerCased,
  z
    .enum(["on", "off", "true", "false", "1", "0", "yes", "no"], {
      message: "must be on or off",
    })
    .optional()
    .transform((v) => (v === undefined ? undefined : ["on", "true", "1", "yes"].includes(v))),
);

/** The items of a comma list, trimmed, empties dropped. */
export function splitList(s: string): string[] {
  return s
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A text setting with a default, turned into its value by `parse` or refused with its problem. */
export function parsedText<T>(
  defaultValue: string,
  parse: (s: string) => { ok: true; value: T } | { ok: false; problem: string },
) {
  return z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default(defaultValue)
      .transform((s, ctx) => {
        const r = parse(s);
        if (!r.ok) {
          ctx.addIssue({ code: "custom", message: r.problem });
          return z.NEVER;
        }
        return r.value;
      }),
  );
}

/**
 * A comma list with a default: items trimmed (and normalised), empties dropped; at least one,
 * each passing `valid`, else `describe` words the problem (given the first bad item, if any).
 */
export const commaList = (
  defaultValue: string,
  valid: (item: string) => boolean,
  describe: (bad: string | undefined, s: string) => string,
  normalize: (item: string) => string = (item) => item,
) =>
  parsedText(defaultValue, (s) => {
    const items = splitList(s).map(normalize).filter(Boolean);
    const bad = items.find((item) => !valid(item));
    return items.length === 0 || bad !== undefined
      ? { ok: false, problem: describe(bad, s) }
      : { ok: true, value: items };
  });
