/**
 * The call search as it travels. The form is POSTed (a number typed into it never goes into a
 * URL); the criteria then live in the result URL only as `q`, an AES-256-GCM sealed copy under a
 * key derived from VMS_ADMIN_TOKEN. So a search link can be bookmarked, reloaded and paged with
 * plain GET requests, shared among the token's holders, and still shows no number to a proxy log,
 * the browser history or a Referer header. Sealed rather than kept in a server-side table: every
 * ingest process can open it, with nothing to expire or clean up.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

import { z } from "zod";

import { parseBeijingDate } from "../domain/time.js";
import type { CallCursor, CallSearch } from "../store/explorer/callSearch.js";
import { RECONCILE_STATES } from "../store/explorer/callSearch.js";
import { PRODUCTS } from "../domain/callDimensions.js";

const blank = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const trimmed = (max: number) => z.preprocess(blank, z.string().trim().max(max).optional());
const day = z.preprocess(
  blank,
  z
    .string()
    .trim()
    .refine((s) => parseBeijingDate(s).ok, "a day YYYY-MM-DD")
    .optional(),
);

/** The search form's fields (also what `q` seals); empty fields mean "any". */
export const searchFormSchema = z
  .object({
    call_id: trimmed(200),
    out_id: trimmed(200),
    number: z.preprocess(
      (v) => (typeof v === "string" ? blank(v.replace(/[\s\-()+]/g, "")) : v),
      z
        .string()
        .regex(/^\d{4,20}$/, "at least the last 4 digits of a number (digits only)")
        .optional(),
    ),
    from: day,
    to: day,
    direction: z.preprocess(blank, z.enum(["outbound", "inbound"]).optional()),
    product: z.preprocess(blank, z.enum(PRODUCTS).optional()),
    status: z.preprocess(
      blank,
      z
        .string()
        .trim()
        .regex(/^(\d{1,10}|none)$/, "a status code, or none")
        .optional(),
    ),
    reconcile: z.preprocess(blank, z.enum(RECONCILE_STATES).optional()),
  })
  .refine((f) => !(f.from && f.to && f.from > f.to), { message: "from is after to" });

export type SearchForm = z.infer<typeof searchFormSchema>;

/** Which CallSearch criterion each form field fills (an empty field fills none). */
const CRITERIA = {
  call_id: "callId",
  out_id: "outIdPrefix",
  number: "number",
  from: "fromDay",
  to: "toDay",
  direction: "direction",
  product: "product",
  status: "status",
  reconcile: "reconcile",
} as const satisfies { [K in keyof SearchForm]-?: keyof CallSearch };

export function toCallSearch(f: SearchForm): CallSearch {
  const s: Record<string, unknown> = {};
  for (const [field, criterion] of Object.entries(CRITERIA)) {
    const value = f[field as keyof SearchForm];
    if (value) {
      s[criterion] = value;
    }
  }
  return s as CallSearch;
}

export interface Sealer {
  seal(form: SearchForm): string;
  /** The form sealed in `q`, or undefined when it was not sealed with this token. */
  open(q: string): SearchForm | undefined;
}

export function createSealer(adminToken: string): Sealer {
  const key = createHmac("sha256", adminToken)
    .update("voice-receipts call explorer search")
    .digest();
  return {
    seal(form) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(form), "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(q) {
      try {
        const raw = Buffer.from(q, "base64url");
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
        const parsed = searchFormSchema.safeParse(JSON.parse(text.toString("utf8")));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** Keyset cursors in URLs: base64url JSON (they hold a time and an id, never a number). */
export function encodeCursor(cursor: object): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

/** timestamptz as PostgreSQL writes it, e.g. `2026-12-02 20:35:44.123456+08`. */
const pgTime = z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/);
const callCursor = z.object({ time: pgTime, callId: z.string().max(200) });
const rejectedCursor = z.object({ receivedAt: pgTime, id: z.string().regex(/^\d{1,19}$/) });

function decode<T>(schema: z.ZodType<T>, text: unknown): T | undefined {
  if (typeof text !== "string" || text === "") {
    return undefined;
  }
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const decodeCallCursor = (text: unknown): CallCursor | undefined => decode(callCursor, text);
export const decodeRejectedCursor = (text: unknown) => decode(rejectedCursor, text);
