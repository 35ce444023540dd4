/**
 * Message operations on `/queues/{q}/messages` (docs/alibaba.md §11.2): (batch) send,
 * (batch) receive with long polling, peek, (batch) delete, change visibility.
 */
import type { SimCounters } from "./counters.js";
import type { HandleResult, MessageView, MnsQueue } from "./mnsQueue.js";
import {
  MALFORMED_XML,
  MnsError,
  intArg,
  invalidArgument,
  messageNodes,
  parseOutgoingMessage,
  type MnsReply,
} from "./mnsXml.js";
import { parseXml, type XmlNode } from "./xml.js";

export const BATCH_MAX = 16;
const BATCH_MAX_BYTES = 65536;
const NOT_EXIST = "Message not exist.";
const BAD_HANDLE = "The receipt handle you provide is not valid.";

export interface MessageCtx {
  query: URLSearchParams;
  body: Buffer;
  requestId: string;
  counters: SimCounters;
  /** Registers what to do when the client goes away (withdraws a long poll). */
  onClose: (fn: () => void) => void;
}

/** ReceiptHandle / VisibilityTimeout arrive in either case (node sends lower-case). */
function queryParam(query: URLSearchParams, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of query) {
    if (k.toLowerCase() === lower) {
      return v;
    }
  }
  return undefined;
}

export function sendMessages(q: MnsQueue, ctx: MessageCtx): MnsReply {
  const parsed = parseXml(ctx.body.toString("utf8"));
  if (!parsed) {
    throw MALFORMED_XML();
  }
  const max = q.attributes.maximumMessageSize;
  if ("Message" in parsed) {
    const m = parseOutgoingMessage(parsed.Message, max);
    const sent = q.send(m.body, stripUndefined(m));
    return {
      status: 201,
      requestId: ctx.requestId,
      root: "Message",
      children: [
        ["MessageId", sent.messageId],
        ["MessageBodyMD5", sent.bodyMd5],
      ],
    };
  }
  const list = (parsed.Messages as { Message?: unknown[] } | undefined)?.Message;
  if (!Array.isArray(list)) {
    throw MALFORMED_XML();
  }
  if (list.length < 1 || list.length > BATCH_MAX) {
    throw invalidArgument("Messages", 1, BATCH_MAX);
  }
  const messages = list.map((el) => parseOutgoingMessage(el, max));
  if (messages.reduce((n, m) => n + Buffer.byteLength(m.body), 0) > BATCH_MAX_BYTES) {
    throw invalidArgument("Messages", 1, BATCH_MAX_BYTES, "bytes");
  }
  const sent = messages.map((m) => q.send(m.body, stripUndefined(m)));
  return {
    status: 201,
    requestId: ctx.requestId,
    root: "Messages",
    children: sent.map((s): XmlNode => [
      "Message",
      [
        ["MessageId", s.messageId],
        ["MessageBodyMD5", s.bodyMd5],
      ],
    ]),
  };
}

export async function receiveMessages(q: MnsQueue, ctx: MessageCtx): Promise<MnsReply> {
  const { query, requestId } = ctx;
  const rawNum = query.get("numOfMessages") ?? undefined;
  const batch = rawNum !== undefined;
  const n = intArg(rawNum, "numOfMessages", 1, BATCH_MAX) ?? 1;
  if (query.get("peekonly") === "true") {
    const peeked = q.peek(n);
    if (peeked.length === 0) {
      throw new MnsError(404, "MessageNotExist", NOT_EXIST);
    }
    return messagesReply(requestId, peeked, batch);
  }
  const wait =
    intArg(query.get("waitseconds") ?? undefined, "waitseconds", 0, 30, "seconds") ??
    q.attributes.pollingWaitSeconds;
  ctx.counters.mns.receiveRequests++;
  const got = await q.receiveWait(n, wait * 1000, ctx.onClose);
  if (got.length === 0) {
    ctx.counters.mns.emptyReceives++;
    throw new MnsError(404, "MessageNotExist", NOT_EXIST);
  }
  return messagesReply(requestId, got, batch);
}

/** `<Messages>` for batch calls (even with one message), else a single `<Message>`. */
function messagesReply(requestId: string, messages: MessageView[], batch: boolean): MnsReply {
  const [first] = messages;
  if (!batch && first) {
    return { status: 200, requestId, root: "Message", children: messageNodes(first) };
  }
  return {
    status: 200,
    requestId,
    root: "Messages",
    children: messages.map((m): XmlNode => ["Message", messageNodes(m)]),
  };
}

export function deleteMessages(q: MnsQueue, ctx: MessageCtx): MnsReply {
  const single = queryParam(ctx.query, "ReceiptHandle");
  if (single !== undefined) {
    throwIfFailed(q.delete(single));
    return { status: 204, requestId: ctx.requestId };
  }
  if (ctx.body.length === 0) {
    throw new MnsError(400, "MissingReceiptHandle", "ReceiptHandle is required.");
  }
  const parsed = parseXml(ctx.body.toString("utf8"));
  const handles = (parsed?.ReceiptHandles as { ReceiptHandle?: unknown[] } | undefined)
    ?.ReceiptHandle;
  if (!Array.isArray(handles) || handles.some((h) => typeof h !== "string")) {
    throw MALFORMED_XML();
  }
  if (handles.length < 1 || handles.length > BATCH_MAX) {
    throw invalidArgument("ReceiptHandles", 1, BATCH_MAX);
  }
  const errors: XmlNode[] = [];
  for (const handle of handles as string[]) {
    const result = q.delete(handle);
    if (!result.ok) {
      const message = result.code === "MessageNotExist" ? NOT_EXIST : BAD_HANDLE;
      errors.push([
        "Error",
        [
          ["ErrorCode", result.code],
          ["ErrorMessage", message],
          ["ReceiptHandle", handle],
        ],
      ]);
    }
  }
  return errors.length === 0
    ? { status: 204, requestId: ctx.requestId }
    : { status: 404, requestId: ctx.requestId, root: "Errors", children: errors };
}

export function changeVisibility(q: MnsQueue, ctx: MessageCtx): MnsReply {
  const handle = queryParam(ctx.query, "ReceiptHandle");
  if (handle === undefined) {
    throw new MnsError(400, "MissingReceiptHandle", "ReceiptHandle is required.");
  }
  const rawTimeout = queryParam(ctx.query, "VisibilityTimeout");
  if (rawTimeout === undefined) {
    throw new MnsError(400, "MissingVisibilityTimeout", "VisibilityTimeout is required.");
  }
  const seconds = intArg(rawTimeout, "VisibilityTimeout", 0, 43200, "seconds") as number;
  const result = q.changeVisibility(handle, seconds);
  throwIfFailed(result);
  return {
    status: 200,
    requestId: ctx.requestId,
    root: "ChangeVisibility",
    children: [
      ["ReceiptHandle", result.ok ? result.receiptHandle : ""],
      ["NextVisibleTime", result.ok ? result.nextVisibleTime : 0],
    ],
  };
}

function throwIfFailed(result: HandleResult): void {
  if (!result.ok) {
    throw result.code === "MessageNotExist"
      ? new MnsError(404, "MessageNotExist", NOT_EXIST)
      : new MnsError(400, "ReceiptHandleError", BAD_HANDLE);
  }
}

function stripUndefined(m: { delaySeconds: number | undefined; priority: number | undefined }): {
  delaySeconds?: number;
  priority?: number;
} {
  return {
    ...(m.delaySeconds === undefined ? {} : { delaySeconds: m.delaySeconds }),
    ...(m.priority === undefined ? {} : { priority: m.priority }),
  };
}
