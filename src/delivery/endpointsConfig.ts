/**
 * Webhook endpoints from VMS_WEBHOOK_URLS + VMS_WEBHOOK_SECRET and the optional per-endpoint
 * file VMS_WEBHOOK_CONFIG; durations of VMS_WEBHOOK_RETRY_SCHEDULE. Called by the one
 * configuration loader (src/config/delivery.ts), which reports the problems returned here under
 * the variable's name. A secret's value never appears in a problem.
 */
import { readFileSync } from "node:fs";

import { Webhook } from "standardwebhooks";
import { z } from "zod";

import { EVENT_TYPES, OPT_IN_EVENT_TYPES, type EventType } from "../domain/outcomeEvents.js";

export interface WebhookEndpoint {
  url: string;
  /** `whsec_…` (base64 key after the prefix). */
  secret: string;
  /** Event types sent here: by default every type except the opt-in ones (dialogue.turn). */
  types: readonly EventType[];
  /** Only events whose out_id starts with this (calls without out_id never match). */
  outIdPrefix: string | null;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `0s`, `5m`, `2h`, `5d` → milliseconds; undefined when not a duration. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(s.trim());
  return m ? Number(m[1]) * (UNITS[m[2] as string] as number) : undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export function parseRetrySchedule(s: string): Parsed<number[]> {
  const parts = s.split(",").map((p) => p.trim());
  const ms = parts.map(parseDuration);
  if (parts.length === 0 || parts.length > 50 || ms.some((v) => v === undefined)) {
    return {
      ok: false,
      problem: `must be a comma list of 1 to 50 durations such as 0s,5s,5m,30m,2h (units ms, s, m, h, d), got "${s}"`,
    };
  }
  return { ok: true, value: ms as number[] };
}

/** Whether standardwebhooks accepts the secret (whsec_ + base64). */
function validSecret(secret: string): boolean {
  if (!secret.startsWith("whsec_")) {
    return false;
  }
  try {
    new Webhook(secret);
    return Buffer.from(secret.slice(6), "base64").length >= 16;
  } catch {
    return false;
  }
}

const SECRET_PROBLEM =
  "must be whsec_ followed by a base64 key of at least 16 bytes (e.g. whsec_$(openssl rand -base64 32))";

function validUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

const fileEndpoint = z
  .object({
    url: z.string().refine(validUrl, { message: "must be an http:// or https:// URL" }),
    secret: z.string().optional(),
    types: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
    out_id_prefix: z.string().min(1).optional(),
  })
  .strict();
/** `{ "endpoints": [...] }`, or the bare array. */
const fileSchema = z.preprocess(
  (v) => (Array.isArray(v) ? { endpoints: v } : v),
  z.object({ endpoints: z.array(fileEndpoint) }).strict(),
);

export interface EndpointSources {
  urls: string | undefined;
  secret: string | undefined;
  configPath: string | undefined;
}

/** Problems are `[variable, message]`, reported by loadConfig. */
export function loadEndpoints(src: EndpointSources): {
  endpoints: WebhookEndpoint[];
  problems: [string, string][];
} {
  const problems: [string, string][] = [];
  const endpoints: WebhookEndpoint[] = [];
  const defaultTypes = EVENT_TYPES.filter((t) => !OPT_IN_EVENT_TYPES.includes(t));
  if (src.secret !== undefined && !validSecret(src.secret)) {
    problems.push(["VMS_WEBHOOK_SECRET", SECRET_PROBLEM]);
  }
  const urls = (src.urls ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
  for (const [i, url] of urls.entries()) {
    if (!validUrl(url)) {
      // Not echoed: a webhook URL may carry a credential.
      problems.push([
        "VMS_WEBHOOK_URLS",
        `must be a comma list of http(s) URLs; entry ${i + 1} is not`,
      ]);
    } else if (src.secret === undefined) {
      problems.push(["VMS_WEBHOOK_SECRET", "must be set when VMS_WEBHOOK_URLS is"]);
      break;
    } else {
      endpoints.push({ url, secret: src.secret, types: defaultTypes, outIdPrefix: null });
    }
  }
  if (src.configPath !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(src.configPath, "utf8"));
    } catch (err) {
      problems.push([
        "VMS_WEBHOOK_CONFIG",
        `cannot read ${src.configPath} as JSON: ${(err as Error).message}`,
      ]);
    }
    if (raw !== undefined) {
      const parsed = fileSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        problems.push([
          "VMS_WEBHOOK_CONFIG",
          `${src.configPath}: ${issue ? `${issue.path.join(".") || "(top)"}: ${issue.message}` : "invalid"}`,
        ]);
      } else {
        const list = parsed.data.endpoints;
        list.forEach((e, i) => {
          const secret = e.secret ?? src.secret;
          if (secret === undefined || !validSecret(secret)) {
            problems.push([
              "VMS_WEBHOOK_CONFIG",
              `${src.configPath}: endpoints.${i}.secret: ${secret === undefined ? "missing (and VMS_WEBHOOK_SECRET is not set)" : SECRET_PROBLEM}`,
            ]);
            return;
          }
          endpoints.push({
            url: e.url,
            secret,
            types: e.types ?? defaultTypes,
            outIdPrefix: e.out_id_prefix ?? null,
          });
        });
      }
    }
  }
  const seen = new Set<string>();
  for (const e of endpoints) {
    if (seen.has(e.url)) {
      problems.push([
        "VMS_WEBHOOK_CONFIG",
        `endpoint ${redactEndpoint(e.url)} is configured twice`,
      ]);
    }
    seen.add(e.url);
  }
  return { endpoints, problems };
}

/**
 * An endpoint URL as it may appear in logs, metrics labels and command output: without
 * user:password@ and query string, which often carry a credential.
 */
export function redactEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? "?***" : ""}`;
  } catch {
    return "<unparseable url>";
  }
}

/** Whether an event goes to an endpoint (its type filter and out_id prefix). */
export function endpointWants(
  e: WebhookEndpoint,
  event: { type: string; outId: string | null },
): boolean {
  return (
    (e.types as readonly string[]).includes(event.type) &&
    (e.outIdPrefix === null || (event.outId ?? "").startsWith(e.outIdPrefix))
  );
}

/** Whether some endpoint takes an opt-in type (e.g. dialogue.turn): emit it only then. */
export function anyEndpointWants(endpoints: readonly WebhookEndpoint[], type: string): boolean {
  return (
    !(OPT_IN_EVENT_TYPES as readonly string[]).includes(type) ||
    endpoints.some((e) => (e.types as readonly string[]).includes(type))
  );
}
