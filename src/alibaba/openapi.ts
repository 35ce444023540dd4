/**
 * Signed RPC calls to Alibaba Cloud POP APIs (dybaseapi, dyvmsapi) through the official
 * `@alicloud/openapi-client` (ACS3-HMAC-SHA256, docs/alibaba.md §10). Failures become typed errors:
 * throttling → RateLimitedError, 5xx / network / timeout → UpstreamError, other 4xx →
 * AlibabaApiError (not retryable). Messages never contain the AccessKey secret or STS token.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";

import type * as OpenApiModule from "@alicloud/openapi-client";
import type * as TeaUtilModule from "@alicloud/tea-util";

import { AppError, RateLimitedError, UpstreamError } from "../errors.js";

// Both packages are CommonJS compiled from TypeScript (`__esModule` set). Node's ESM loader and
// bundlers such as vite disagree on what a default import of them is, so load them through
// `require`, which gives `module.exports` everywhere: the client class is `.default`.
const require = createRequire(import.meta.url);
const OpenApi = require("@alicloud/openapi-client") as typeof OpenApiModule.default;
const Util = require("@alicloud/tea-util") as typeof TeaUtilModule.default;

export interface RpcClientOptions {
  /** `https://dyvmsapi.aliyuncs.com` or, for the simulator, `http://127.0.0.1:9100`. */
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** For STS credentials. */
  securityToken?: string;
  /** Connect and read timeout per call; default 10 000 ms. */
  timeoutMs?: number;
}

export interface RpcClient {
  /**
   * Call `action` (e.g. `QueryCallDetailByCallId`) of API `version`; resolves with the JSON body.
   * `onSent` is called when the request is on a connected socket (onSent below), for a rate
   * limiter that records real send times.
   */
  call(
    action: string,
    version: string,
    query: Record<string, string>,
    onSent?: () => void,
  ): Promise<unknown>;
}

/**
 * Calls waiting for their request to reach a socket, by host and query. The SDK puts the query
 * in the URL (RPC style, ACS3 signature), so the request tells which call made it. Not an
 * AsyncLocalStorage: on Node 20 it turns on promise hooks for the whole process, which made
 * promise-heavy code several times slower in a quick measure here.
 */
const waiting = new Map<string, Array<() => void>>();
let watching = false;

function requestKey(host: string, query: Iterable<[string, string]>): string {
  const entries = [...query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${host} ${JSON.stringify(entries)}`;
}

/**
 * Call `onSent` of the call that made this request once its bytes can leave: the SDK (httpx,
 * node:http with a keep-alive agent) gives no hook of its own, so node:http's
 * `http.client.request.start` diagnostics channel finds the request. Node 20 publishes it once
 * the request was written to its socket; a new socket only sends after its TCP connect (and TLS
 * handshake), which on a real endpoint can be tens of ms: then the request leaves at `connect` /
 * `secureConnect`. A socket that fails to connect sends nothing and never calls it. Requests of
 * other clients (MNS, S3) match no waiting call.
 */
function onRequestStart(message: unknown): void {
  // Node rethrows a subscriber's error as an uncaught exception, in whatever request of the
  // process published: a send-time hint is never worth that.
  try {
    matchRequest(message);
  } catch {
    // the call's first sent() stands
  }
}

function matchRequest(message: unknown): void {
  const request = (message as { request?: ClientRequest } | undefined)?.request;
  if (waiting.size === 0 || !request) {
    return;
  }
  const q = request.path.indexOf("?");
  const key = requestKey(
    request.host,
    q < 0 ? [] : new URLSearchParams(request.path.slice(q + 1)).entries(),
  );
  const calls = waiting.get(key);
  const onSent = calls?.shift();
  if (!onSent) {
    return;
  }
  if (calls!.length === 0) {
    waiting.delete(key);
  }
  const onSocket = (socket: Socket) => {
    if (socket.connecting) {
      socket.once("encrypted" in socket ? "secureConnect" : "connect", onSent);
    } else {
      onSent();
    }
  };
  if (request.socket) {
    onSocket(request.socket);
  } else {
    request.once("socket", onSocket);
  }
}

/** A 4xx answer that will not change by retrying (bad signature, unknown key, bad parameter). */
export class AlibabaApiError extends AppError {
  readonly statusCode: number | undefined;
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { statusCode?: number | undefined; requestId?: string | undefined } = {},
  ) {
    super(code, message, { retryable: false });
    this.statusCode = details.statusCode;
    this.requestId = details.requestId;
  }
}

const THROTTLING = /^Throttling(\.|$)|^isv\.BUSINESS_LIMIT_CONTROL$|^QpsLimitExceeded$/;
const SERVER_SIDE = /^(InternalError|ServiceUnavailable|isp\.SYSTEM_ERROR|UnknownError)(\.|$)/;

interface TeaErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  data?: { RequestId?: unknown; Message?: unknown; message?: unknown } | undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" && v !== "undefined" ? v : undefined;
}

/** Map whatever the SDK threw to our errors; never passes the raw error (it holds request headers). */
export function classifyRpcFailure(action: string, err: unknown): AppError {
  const e = (typeof err === "object" && err !== null ? err : {}) as TeaErrorShape;
  const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
  const code = str(e.code);
  const requestId = str(e.data?.RequestId);
  const detail = str(e.data?.Message) ?? str(e.data?.message);
  if (status !== undefined && code !== undefined) {
    const text = `${action} failed: HTTP ${status} ${code}${detail ? `: ${detail}` : ""}${requestId ? ` (request ${requestId})` : ""}`;
    if (THROTTLING.test(code)) {
      return new RateLimitedError(text);
    }
    if (status >= 500 || SERVER_SIDE.test(code)) {
      return new UpstreamError(text);
    }
    return new AlibabaApiError(code, text, { statusCode: status, requestId });
  }
  const name = str(e.name) ?? "Error";
  const reason = code ?? name;
  // Network errors, timeouts and unparseable bodies (e.g. an HTML 502 from a proxy).
  return new UpstreamError(`${action} failed: ${reason}${status ? ` (HTTP ${status})` : ""}`);
}

/** Business-level failures arrive as HTTP 200 with `Code` other than `OK`. */
function checkBody(action: string, body: unknown): unknown {
  if (typeof body !== "object" || body === null) {
    throw new UpstreamError(`${action} answered a non-object body`);
  }
  const code = (body as { Code?: unknown }).Code;
  if (typeof code === "string" && code !== "OK") {
    throw classifyRpcFailure(action, {
      statusCode: 200,
      code,
      data: body as TeaErrorShape["data"],
    });
  }
  return body;
}

export function createRpcClient(options: RpcClientOptions): RpcClient {
  const url = new URL(options.endpoint);
  const protocol = url.protocol.replace(":", "");
  if (protocol !== "http" && protocol !== "https") {
    throw new TypeError(`endpoint must be http(s)://, got ${url.protocol}`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const client = new OpenApi.default(
    new OpenApi.Config({
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      ...(options.securityToken === undefined ? {} : { securityToken: options.securityToken }),
      endpoint: url.host,
      protocol,
      readTimeout: timeoutMs,
      connectTimeout: timeoutMs,
    }),
  );
  const runtime = new Util.RuntimeOptions({
    autoretry: false,
    readTimeout: timeoutMs,
    connectTimeout: timeoutMs,
  });

  if (!watching) {
    watching = true;
    diagnosticsChannel.subscribe("http.client.request.start", onRequestStart);
  }

  const call: RpcClient["call"] = async (action, version, query, onSent) => {
    if (!onSent) {
      return send(action, version, query);
    }
    const key = requestKey(url.hostname, Object.entries(query));
    const calls = waiting.get(key) ?? [];
    waiting.set(key, calls);
    calls.push(onSent);
    try {
      return await send(action, version, query);
    } finally {
      // Still there if the request never reached a socket (or the SDK changed where the query goes).
      const i = calls.indexOf(onSent);
      if (i >= 0) {
        calls.splice(i, 1);
        if (calls.length === 0 && waiting.get(key) === calls) {
          waiting.delete(key);
        }
      }
    }
  };
  const send = async (action: string, version: string, query: Record<string, string>) => {
    const params = new OpenApi.Params({
      action,
      version,
      protocol,
      pathname: "/",
      method: "POST",
      authType: "AK",
      style: "RPC",
      reqBodyType: "formData",
      bodyType: "json",
    });
    let response: Record<string, unknown>;
    try {
      response = await client.callApi(params, new OpenApi.OpenApiRequest({ query }), runtime);
    } catch (err) {
      throw classifyRpcFailure(action, err);
    }
    return checkBody(action, response.body);
  };
  return { call };
}
