/**
 * The VMS_ADMIN_TOKEN gate shared by the admin pages (the queue board, the call explorer).
 *
 * A request is let in by `Authorization: Bearer <token>`, or by the session cookie that a first
 * page load with `?token=<token>` sets (pages' own asset and XHR requests cannot carry a header,
 * so the browser needs the cookie). The cookie holds an HMAC of the token, not the token, and
 * the `?token=` load is redirected to the same URL without it, so the token stays out of the
 * address bar, the history and Referer headers. Anything else is 401. Each page has its own
 * cookie name, HMAC label and Path, so one page's cookie never opens another.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

import type { FastifyReply, FastifyRequest } from "fastify";

export interface AdminGateOptions {
  token: string;
  /** Cookie name, e.g. `vr_board`. */
  cookie: string;
  /** The page's base path: the cookie's Path. */
  path: string;
  /** Names the page in the cookie's HMAC, the WWW-Authenticate realm and the 401 text. */
  label: string;
}

/** Fixed-length digests, so timingSafeEqual never sees inputs of different lengths. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

/** The request URL without its `token` query parameter (where a `?token=` load is sent). */
function withoutToken(rawUrl: string): string {
  const u = new URL(rawUrl, "http://admin.invalid");
  u.searchParams.delete("token");
  return `${u.pathname}${u.search}`;
}

/** An onRequest hook letting in only holders of the admin token. */
export function createAdminGate(options: AdminGateOptions) {
  const { token, cookie: name, path, label } = options;
  const session = createHmac("sha256", token).update(`voice-receipts ${label}`).digest("base64url");
  return async function gate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = bearer(req.headers.authorization);
    if (header !== undefined && sameSecret(header, token)) {
      return;
    }
    const cookie = readCookie(req.headers.cookie, name);
    if (cookie !== undefined && sameSecret(cookie, session)) {
      return;
    }
    const query = (req.query as Record<string, unknown> | undefined)?.token;
    if (req.method === "GET" && typeof query === "string" && sameSecret(query, token)) {
      const https =
        req.protocol === "https" || req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
      await reply
        .header("set-cookie", `${name}=${session}; Path=${path}; HttpOnly; SameSite=Strict${https}`)
        .redirect(withoutToken(req.url), 303);
      return;
    }
    await reply
      .code(401)
      .header("www-authenticate", `Bearer realm="voice-receipts ${label}"`)
      .type("text/plain; charset=utf-8")
      .send(
        `401: the ${label} needs VMS_ADMIN_TOKEN (Authorization: Bearer … or ${path}?token=…)\n`,
      );
  };
}
