/**
 * MNS request signature V2 (docs/alibaba.md §11.3): HMAC-SHA1 over verb, Content-MD5,
 * Content-Type, Date, the sorted `x-mns-*` headers and the raw request target. STS callers add a
 * `security-token` header that is not signed; it is checked against the token we issued.
 */
import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

import { safeEqual, type CredentialStore, type KeyLookup } from "./credentials.js";

export const MNS_VERSION = "2015-06-06";
/** Requests whose Date is further than this from our clock are refused. */
export const MAX_DATE_SKEW_MS = 15 * 60 * 1000;

export interface MnsSignInput {
  method: string;
  contentMd5: string | undefined;
  contentType: string | undefined;
  date: string;
  /** Every `x-mns-*` header, any case. */
  mnsHeaders: Record<string, string>;
  /** Path plus query exactly as sent (`req.url`). */
  resource: string;
}

export function mnsStringToSign(input: MnsSignInput): string {
  const canonicalHeaders = Object.entries(input.mnsHeaders)
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .filter(([name]) => name.startsWith("x-mns-"))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}:${value}\n`)
    .join("");
  return [
    input.method.toUpperCase(),
    input.contentMd5 ?? "",
    input.contentType ?? "",
    input.date,
    `${canonicalHeaders}${input.resource}`,
  ].join("\n");
}

export function mnsSignature(secret: string, stringToSign: string): string {
  return createHmac("sha1", secret).update(stringToSign, "utf8").digest("base64");
}

export interface MnsAuthFailure {
  status: number;
  code: string;
  message: string;
}

export type MnsAuthResult =
  { ok: true; accessKeyId: string; key: KeyLookup } | ({ ok: false } & MnsAuthFailure);

function fail(status: number, code: string, message: string): MnsAuthResult {
  return { ok: false, status, code, message };
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * Check a request's MNS signature. `realNowMs` is wall-clock time: the client's Date header is
 * real time even when the simulated clock has been advanced.
 */
export function verifyMnsRequest(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  store: CredentialStore,
  realNowMs: number,
): MnsAuthResult {
  const version = single(headers, "x-mns-version");
  if (version === undefined) {
    return fail(400, "MissingVersionHeader", "The x-mns-version header is required.");
  }
  if (version !== MNS_VERSION) {
    return fail(400, "InvalidVersionHeader", `The x-mns-version must be ${MNS_VERSION}.`);
  }
  const date = single(headers, "date") ?? single(headers, "x-mns-date");
  if (date === undefined) {
    return fail(400, "MissingDateHeader", "The Date header is required.");
  }
  const dateMs = Date.parse(date);
  if (Number.isNaN(dateMs)) {
    return fail(400, "InvalidDateHeader", "The Date header is not a valid RFC 1123 date.");
  }
  if (Math.abs(realNowMs - dateMs) > MAX_DATE_SKEW_MS) {
    return fail(408, "TimeExpired", "The http request you sent is expired.");
  }
  const authorization = single(headers, "authorization");
  if (authorization === undefined) {
    return fail(400, "MissingAuthorizationHeader", "The Authorization header is required.");
  }
  const m = /^MNS ([^:\s]+):(\S+)$/.exec(authorization);
  if (!m) {
    return fail(400, "InvalidAuthorizationHeader", "The Authorization header is malformed.");
  }
  const accessKeyId = m[1] as string;
  const given = m[2] as string;
  const key = store.lookup(accessKeyId);
  if (!key) {
    return fail(403, "InvalidAccessKeyId", "The access Id you provided does not exist.");
  }
  if (key.kind === "sts") {
    const problem = store.checkToken(key.sts, single(headers, "security-token"));
    if (problem === "missing" || problem === "mismatch") {
      return fail(
        403,
        "InvalidSecurityToken",
        problem === "missing"
          ? "A security-token header is required for STS credentials."
          : "The security token you provided does not match the AccessKey Id.",
      );
    }
    if (problem === "expired") {
      return fail(403, "SecurityTokenExpired", "The security token you provided has expired.");
    }
  }
  const mnsHeaders: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (name.startsWith("x-mns-")) {
      mnsHeaders[name] = single(headers, name) ?? "";
    }
  }
  const expected = mnsSignature(
    key.secret,
    mnsStringToSign({
      method,
      contentMd5: single(headers, "content-md5"),
      contentType: single(headers, "content-type"),
      date,
      mnsHeaders,
      resource: url,
    }),
  );
  if (!safeEqual(expected, given)) {
    return fail(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  return { ok: true, accessKeyId, key };
}
