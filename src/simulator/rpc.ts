/**
 * The POP (RPC-style) side of the simulator: one entry point for dybaseapi and dyvmsapi
 * actions, signature check, JSON errors `{Code, Message, RequestId}` with 4xx/5xx statuses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

import type { Logger } from "../logger.js";
import type { SimCounters } from "./counters.js";
import type { CredentialStore, KeyLookup } from "./credentials.js";
import type { FaultBox, FaultTarget } from "./faults.js";
import { header, sendJson } from "./http.js";
import { popRequestId } from "./ids.js";
import { NonceCache, verifyRpcRequest } from "./rpcSignature.js";

export class RpcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RpcContext {
  params: ReadonlyMap<string, string>;
  key: KeyLookup;
  requestId: string;
}

export interface RpcAction {
  version: string;
  /** Which fault queue and latency apply. */
  target: FaultTarget;
  /** Runs after the request is authenticated; returns the body without RequestId. */
  handle(ctx: RpcContext): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** True when the request looks like a POP call (header or V1 query parameter). */
export function isRpcRequest(req: IncomingMessage): boolean {
  return header(req, "x-acs-action") !== undefined || /[?&]Action=/.test(req.url ?? "");
}

export class RpcService {
  private readonly nonces = new NonceCache();

  constructor(
    private readonly actions: ReadonlyMap<string, RpcAction>,
    private readonly credentials: CredentialStore,
    private readonly counters: SimCounters,
    private readonly faults: FaultBox,
    private readonly logger: Logger | undefined,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const requestId = popRequestId();
    const fail = (status: number, code: string, message: string) =>
      sendJson(res, status, { Code: code, Message: message, RequestId: requestId });
    const url = new URL(req.url ?? "/", "http://simulator");
    const query = [...url.searchParams.entries()];
    const contentType = header(req, "content-type") ?? "";
    const form = contentType.startsWith("application/x-www-form-urlencoded")
      ? [...new URLSearchParams(body.toString("utf8")).entries()]
      : [];
    const params = new Map([...query, ...form]);
    const actionName = header(req, "x-acs-action") ?? params.get("Action") ?? "";
    const action = this.actions.get(actionName);
    if (!action) {
      fail(
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
      );
      return;
    }
    const version = header(req, "x-acs-version") ?? params.get("Version");
    if (version !== action.version) {
      fail(
        400,
        "InvalidVersion",
        `Specified parameter Version is not valid (expected ${action.version}).`,
      );
      return;
    }
    // Like Alibaba's gateway, admit and count a request (signature, flow control) when it
    // arrives and let the latency delay only the answer. Counting after the delay let late
    // timers on a busy machine bunch the stamps together: the sliding-second figures showed
    // bursts the client never sent.
    const reply = await this.answer(action, req, res, {
      actionName,
      params,
      requestId,
      query,
      form,
      url,
      body,
    });
    const latency = this.faults.latencyMs(action.target);
    if (latency > 0) {
      await sleep(latency);
    }
    reply();
  }

  /** Runs the request now; returns how to answer it once its latency has passed. */
  private async answer(
    action: RpcAction,
    req: IncomingMessage,
    res: ServerResponse,
    r: {
      actionName: string;
      params: Map<string, string>;
      requestId: string;
      query: [string, string][];
      form: [string, string][];
      url: URL;
      body: Buffer;
    },
  ): Promise<() => void> {
    const { requestId } = r;
    const fail = (status: number, code: string, message: string) => () =>
      sendJson(res, status, { Code: code, Message: message, RequestId: requestId });
    const auth = verifyRpcRequest(
      {
        method: req.method ?? "GET",
        pathname: r.url.pathname,
        query: r.query,
        form: r.form,
        headers: req.headers,
        body: r.body,
      },
      this.credentials,
      this.nonces,
      Date.now(),
    );
    if (!auth.ok) {
      this.counters.rpcAuthFailures++;
      this.logger?.debug(
        { action: r.actionName, code: auth.code },
        "simulator: RPC request refused",
      );
      return fail(auth.status, auth.code, auth.message);
    }
    try {
      const result = await action.handle({ params: r.params, key: auth.key, requestId });
      return () => {
        if (!res.destroyed) {
          sendJson(res, 200, { ...result, RequestId: requestId });
        }
      };
    } catch (err) {
      if (err instanceof DropConnection) {
        return () => req.socket.destroy();
      }
      if (err instanceof GarbageResponse) {
        return () => {
          res.writeHead(err.status, { "content-type": "text/html" });
          res.end("<html><body><h1>Bad Gateway</h1></body></html>");
        };
      }
      if (!(err instanceof RpcError)) {
        throw err;
      }
      return fail(err.status, err.code, err.message);
    }
  }
}

/** Thrown by an action to make the server drop the connection without answering. */
export class DropConnection extends Error {}

/** Thrown by an action to answer with a non-JSON body. */
export class GarbageResponse extends Error {
  constructor(readonly status: number) {
    super(`garbage ${status}`);
  }
}

/** Apply the next injected fault of `target`, if any (call after admission checks). */
export function applyFault(faults: FaultBox, target: FaultTarget, onFault: () => void): void {
  const fault = faults.take(target);
  if (!fault) {
    return;
  }
  onFault();
  if (fault.kind === "drop") {
    throw new DropConnection();
  }
  if (fault.kind === "garbage") {
    throw new GarbageResponse(fault.status);
  }
  throw new RpcError(
    fault.status,
    fault.code,
    fault.message ?? "The request processing has failed due to some unknown error.",
  );
}

/** A required parameter, or a POP-style `Missing<Name>` error. */
export function requireParam(params: ReadonlyMap<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === "") {
    throw new RpcError(400, `Missing${name}`, `${name} is mandatory for this action.`);
  }
  return value;
}
