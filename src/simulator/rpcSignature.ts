/**
 * POP (RPC) request signatures as checked by the simulated dybaseapi / dyvmsapi endpoints: V3
 * `ACS3-HMAC-SHA256` in the Authorization header (what @alicloud/openapi-client 0.4.x sends,
 * docs/alibaba.md §10), and the older V1 `Signature=` query parameter (HMAC-SHA1) for other
 * clients.
 */
import { createHash, createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

import { safeEqual, type CredentialStore, type KeyLookup } from "./credentials.js";

export const MAX_TIMESTAMP_SKEW_MS = 15 * 60 * 1000;

/** RFC 3986 encoding as openapi-util's `encode`. */
export function popEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface Acs3Input {
  method: string;
  pathname: string;
  /** Decoded query parameters. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Values of the signed headers, by lower-case name. */
  headers: Readonly<Record<string, string>>;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function acs3CanonicalRequest(input: Acs3Input): string {
  const query = [...input.query]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${popEncode(v)}`)
    .join("&");
  const names = [...input.signedHeaders].sort();
  const headers = names.map((n) => `${n}:${(input.headers[n] ?? "").trim()}\n`).join("");
  return [
    input.method.toUpperCase(),
    input.pathname,
    query,
    headers,
    names.join(";"),
    input.payloadHash,
  ].join("\n");
}

export function acs3Signature(secret: string, canonicalRequest: string): string {
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`;
  return createHmac("sha256", secret).update(stringToSign).digest("hex");
}

export function v1Signature(
  secret: string,
  method: string,
  params: ReadonlyArray<readonly [string, string]>,
): string {
  const canonical = params
    .filter(([k]) => k !== "Signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${popEncode(k)}=${popEncode(v)}`)
    .join("&");
  const stringToSign = `${method.toUpperCase()}&${popEncode("/")}&${popEncode(canonical)}`;
  return createHmac("sha1", `${secret}&`).update(stringToSign).digest("base64");
}

export interface RpcAuthFailure {
  status: number;
  code: string;
  message: string;
}

export type RpcAuthResult = { ok: true; key: KeyLookup } | ({ ok: false } & RpcAuthFailure);

function fail(status: number, code: string, message: string): RpcAuthResult {
  return { ok: false, status, code, message };
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

export interface RpcRequestParts {
  method: string;
  pathname: string;
  /** Query parameters, decoded. */
  query: Array<[string, string]>;
  /** Form-body parameters, decoded (V1 signs them too). */
  form: Array<[string, string]>;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Remembers recent nonces so a replayed request is refused. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  /** False when the nonce was already used within the window. */
  use(nonce: string, nowMs: number): boolean {
    for (const [n, at] of this.seen) {
      if (at > nowMs - MAX_TIMESTAMP_SKEW_MS) {
        break;
      }
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) {
      return false;
    }
    this.seen.set(nonce, nowMs);
    return true;
  }
}

export function verifyRpcRequest(
  req: RpcRequestParts,
  store: CredentialStore,
  nonces: NonceCache,
  realNowMs: number,
): RpcAuthResult {
  const authorization = single(req.headers, "authorization");
  const v1 =
    req.query.find(([k]) => k === "Signature") ?? req.form.find(([k]) => k === "Signature");
  let accessKeyId: string;
  let timestamp: string | undefined;
  let nonce: string | undefined;
  let token: string | undefined;
  let check: (secret: string) => boolean;
  if (authorization?.startsWith("ACS3-HMAC-SHA256 ")) {
    const m =
      /^ACS3-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!m) {
      return fail(
        400,
        "IncompleteSignature",
        "The request signature does not conform to Aliyun standards.",
      );
    }
    accessKeyId = m[1] as string;
    const signedHeaders = (m[2] as string).split(";");
    const given = m[3] as string;
    const payloadHash = single(req.headers, "x-acs-content-sha256") ?? "";
    if (
      !signedHeaders.includes("host") ||
      !signedHeaders.includes("x-acs-date") ||
      payloadHash !== sha256Hex(req.body)
    ) {
      return fail(
        400,
        "IncompleteSignature",
        "The request signature does not conform to Aliyun standards.",
      );
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      headers[name] = single(req.headers, name) ?? "";
    }
    timestamp = single(req.headers, "x-acs-date");
    nonce = single(req.headers, "x-acs-signature-nonce");
    token = single(req.headers, "x-acs-security-token");
    check = (secret) =>
      safeEqual(
        acs3Signature(
          secret,
          acs3CanonicalRequest({
            method: req.method,
            pathname: req.pathname,
            query: req.query,
            headers,
            signedHeaders,
            payloadHash,
          }),
        ),
        given,
      );
  } else if (v1) {
    const params = [...req.query, ...req.form];
    const get = (name: string) => params.find(([k]) => k === name)?.[1];
    accessKeyId = get("AccessKeyId") ?? "";
    timestamp = get("Timestamp");
    nonce = get("SignatureNonce");
    token = get("SecurityToken");
    check = (secret) => safeEqual(v1Signature(secret, req.method, params), v1[1]);
  } else {
    return fail(
      400,
      "MissingAuthorization",
      "The Authorization header or Signature parameter is required.",
    );
  }
  const at = timestamp === undefined ? NaN : Date.parse(timestamp);
  if (Number.isNaN(at) || Math.abs(realNowMs - at) > MAX_TIMESTAMP_SKEW_MS) {
    return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
  }
  if (nonce === undefined || nonce === "" || !nonces.use(`${accessKeyId}/${nonce}`, realNowMs)) {
    return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
  }
  const key = store.lookup(accessKeyId);
  if (!key) {
    return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  }
  if (key.kind === "sts") {
    const problem = store.checkToken(key.sts, token);
    if (problem === "missing") {
      return fail(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.");
    }
    if (problem === "mismatch") {
      return fail(
        400,
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Specified SecurityToken mismatch with the AccessKey.",
      );
    }
    if (problem === "expired") {
      return fail(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.");
    }
  }
  if (!check(key.secret)) {
    return fail(
      400,
      "SignatureDoesNotMatch",
      "Specified signature is not matched with our calculation.",
    );
  }
  return { ok: true, key };
}
