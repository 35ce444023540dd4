/**
 * The MNS queue REST API on the simulator's port (docs/alibaba.md §11.2–11.5): signed requests,
 * queue CRUD, (batch) send / receive with long polling / delete, change visibility.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

import type { Logger } from "../logger.js";
import type { Clock } from "./clock.js";
import type { SimCounters } from "./counters.js";
import type { CredentialStore, KeyLookup } from "./credentials.js";
import type { FaultBox } from "./faults.js";
import { header } from "./http.js";
import { mnsRequestId } from "./ids.js";
import {
  changeVisibility,
  deleteMessages,
  receiveMessages,
  sendMessages,
  type MessageCtx,
} from "./mnsMessages.js";
import { DEFAULT_QUEUE_ATTRIBUTES, MnsQueue, type QueueAttributes } from "./mnsQueue.js";
import { verifyMnsRequest } from "./mnsSignature.js";
import {
  MALFORMED_XML,
  MnsError,
  errorReply,
  parseQueueAttributes,
  queueAttributeNodes,
  sendMnsReply,
  type MnsReply,
} from "./mnsXml.js";
import { parseXml, type XmlNode } from "./xml.js";

const QUEUE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,255}$/;
const ACCESS_DENIED =
  "The OwnerId that your Access Key Id associated to is forbidden for this operation.";

interface Ctx {
  method: string;
  queueName: string | undefined;
  sub: string | undefined;
  query: URLSearchParams;
  body: Buffer;
  requestId: string;
  key: KeyLookup;
  onClose: (fn: () => void) => void;
}

function md5Matches(body: Buffer, contentMd5: string): boolean {
  const digest = createHash("md5").update(body);
  const hex = digest.copy().digest("hex");
  return (
    contentMd5 === Buffer.from(hex).toString("base64") || contentMd5 === digest.digest("base64")
  );
}

export class MnsService {
  readonly queues = new Map<string, MnsQueue>();

  constructor(
    private readonly clock: Clock,
    private readonly credentials: CredentialStore,
    private readonly counters: SimCounters,
    private readonly faults: FaultBox,
    private readonly logger: Logger | undefined,
  ) {}

  /** Create (or re-attribute) a queue in-process. */
  createQueue(
    name: string,
    attributes: Partial<QueueAttributes> = {},
    messageType?: string,
  ): MnsQueue {
    const merged = { ...DEFAULT_QUEUE_ATTRIBUTES, ...attributes };
    const existing = this.queues.get(name);
    if (existing) {
      existing.attributes = merged;
      existing.messageType = messageType ?? existing.messageType;
      return existing;
    }
    const q = new MnsQueue(name, merged, this.clock, this.counters, messageType);
    this.queues.set(name, q);
    return q;
  }

  /** Re-check every long poll (after the simulated clock moved). */
  notifyAll(): void {
    for (const q of this.queues.values()) {
      q.notify();
    }
  }

  close(): void {
    for (const q of this.queues.values()) {
      q.close();
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const requestId = mnsRequestId();
    const hostId = `http://${header(req, "host") ?? "127.0.0.1"}`;
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const latency = this.faults.latencyMs("mns");
    if (latency > 0) {
      await sleep(latency);
      if (req.socket.destroyed) {
        // The client went away (e.g. it was killed) before its request was taken: model a
        // request that never reached the service.
        return;
      }
    }
    const fault = this.faults.take("mns");
    if (fault) {
      this.counters.mns.faults++;
      if (fault.kind === "drop") {
        req.socket.destroy();
        return;
      }
      if (fault.kind === "garbage") {
        res.writeHead(fault.status, { "content-type": "text/html" });
        res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
        return;
      }
      const message = fault.message ?? "Interal error.";
      sendMnsReply(res, errorReply(fault.status, fault.code, message, requestId, hostId));
      return;
    }
    const auth = verifyMnsRequest(method, url, req.headers, this.credentials, Date.now());
    if (!auth.ok) {
      this.counters.mns.authFailures++;
      this.logger?.debug({ method, code: auth.code }, "simulator: MNS request refused");
      sendMnsReply(res, errorReply(auth.status, auth.code, auth.message, requestId, hostId));
      return;
    }
    const [path = "/", rawQuery = ""] = url.split("?", 2) as [string, string?];
    const segments = path.split("/").filter((s, i) => i > 0 || s !== "");
    if (
      segments[0] !== "queues" ||
      segments.length > 3 ||
      (segments[2] ?? "messages") !== "messages"
    ) {
      sendMnsReply(
        res,
        errorReply(400, "InvalidRequestURL", "The request url is invalid.", requestId, hostId),
      );
      return;
    }
    try {
      const contentMd5 = header(req, "content-md5");
      if (contentMd5 !== undefined && contentMd5 !== "" && !md5Matches(body, contentMd5)) {
        throw new MnsError(400, "InvalidDegist", "The Content-MD5 you specified is invalid.");
      }
      const reply = await this.route(
        {
          method,
          queueName: segments[1],
          sub: segments[2],
          query: new URLSearchParams(rawQuery),
          body,
          requestId,
          key: auth.key,
          onClose: (fn) => res.once("close", fn),
        },
        hostId,
      );
      if (!res.destroyed) {
        sendMnsReply(res, reply);
      }
    } catch (err) {
      if (!(err instanceof MnsError)) {
        throw err;
      }
      if (!res.destroyed) {
        sendMnsReply(res, errorReply(err.status, err.code, err.message, requestId, hostId));
      }
    }
  }

  private async route(ctx: Ctx, hostId: string): Promise<MnsReply> {
    const { method, queueName, sub, requestId } = ctx;
    if (queueName === undefined) {
      if (method !== "GET") {
        throw new MnsError(400, "InvalidRequestURL", "The request url is invalid.");
      }
      this.requireAccount(ctx.key);
      return this.listQueues(requestId, hostId);
    }
    if (!QUEUE_NAME.test(queueName)) {
      throw new MnsError(400, "InvalidQueueName", "The queue name you provided is invalid.");
    }
    if (sub === undefined) {
      this.requireAccount(ctx.key);
      return this.queueOp(ctx, queueName, hostId);
    }
    const q = this.queues.get(queueName);
    if (!q) {
      throw new MnsError(404, "QueueNotExist", "The queue name you provided is not exist.");
    }
    if (ctx.key.kind === "sts") {
      const sts = ctx.key.sts;
      const allowed = sts.queueName ? sts.queueName === q.name : sts.messageType === q.messageType;
      if (!allowed) {
        throw new MnsError(403, "AccessDenied", ACCESS_DENIED);
      }
    }
    const mctx: MessageCtx = { ...ctx, counters: this.counters };
    switch (method) {
      case "POST":
        return sendMessages(q, mctx);
      case "GET":
        return receiveMessages(q, mctx);
      case "DELETE":
        return deleteMessages(q, mctx);
      case "PUT":
        return changeVisibility(q, mctx);
      default:
        throw new MnsError(405, "MethodNotAllowed", `${method} is not allowed here.`);
    }
  }

  private requireAccount(key: KeyLookup): void {
    if (key.kind !== "account") {
      throw new MnsError(403, "AccessDenied", ACCESS_DENIED);
    }
  }

  private listQueues(requestId: string, hostId: string): MnsReply {
    const names = [...this.queues.keys()].sort();
    return {
      status: 200,
      requestId,
      root: "Queues",
      children: names.map((n): XmlNode => ["Queue", [["QueueURL", `${hostId}/queues/${n}`]]]),
    };
  }

  private queueOp(ctx: Ctx, name: string, hostId: string): MnsReply {
    const { method, requestId } = ctx;
    const existing = this.queues.get(name);
    if (method === "GET") {
      if (!existing) {
        throw new MnsError(404, "QueueNotExist", "The queue name you provided is not exist.");
      }
      return { status: 200, requestId, root: "Queue", children: queueAttributeNodes(existing) };
    }
    if (method === "DELETE") {
      existing?.close();
      this.queues.delete(name);
      return { status: 204, requestId };
    }
    if (method !== "PUT") {
      throw new MnsError(405, "MethodNotAllowed", `${method} is not allowed here.`);
    }
    const parsed = ctx.body.length === 0 ? { Queue: {} } : parseXml(ctx.body.toString("utf8"));
    if (!parsed || !("Queue" in parsed)) {
      throw MALFORMED_XML();
    }
    if (ctx.query.get("metaoverride") === "true") {
      if (!existing) {
        throw new MnsError(404, "QueueNotExist", "The queue name you provided is not exist.");
      }
      existing.attributes = parseQueueAttributes(parsed.Queue, existing.attributes);
      existing.lastModifyTime = this.clock.now();
      return { status: 204, requestId };
    }
    const attributes = parseQueueAttributes(parsed.Queue);
    if (existing) {
      if (JSON.stringify(existing.attributes) !== JSON.stringify(attributes)) {
        throw new MnsError(
          409,
          "QueueAlreadyExist",
          "The queue you want to create is already exist.",
        );
      }
      return { status: 204, requestId };
    }
    this.createQueue(name, attributes);
    return { status: 201, requestId, headers: { location: `${hostId}/queues/${name}` } };
  }
}
