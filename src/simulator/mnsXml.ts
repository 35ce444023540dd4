/** Request parsing and response rendering for the MNS REST API (docs/alibaba.md §11.2). */
import type { ServerResponse } from "node:http";

import {
  DEFAULT_QUEUE_ATTRIBUTES,
  type MessageView,
  type MnsQueue,
  type QueueAttributes,
} from "./mnsQueue.js";
import { MNS_VERSION } from "./mnsSignature.js";
import { childText, xmlDocument, type XmlNode } from "./xml.js";

export class MnsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const MALFORMED_XML = (): MnsError =>
  new MnsError(400, "MalformedXML", "The XML you provided was not well-formed.");

export function invalidArgument(element: string, low: number, high: number, unit = ""): MnsError {
  return new MnsError(
    400,
    "InvalidArgument",
    `The value of ${element} should between ${low} and ${high}${unit ? ` ${unit}` : ""}.`,
  );
}

/** An optional whole number in [low, high]; throws InvalidArgument otherwise. */
export function intArg(
  raw: string | undefined | null,
  element: string,
  low: number,
  high: number,
  unit = "",
): number | undefined {
  if (raw === undefined) {
    return undefined;
  }
  // null: the element held markup instead of text.
  const n = raw !== null && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= low && n <= high)) {
    throw invalidArgument(element, low, high, unit);
  }
  return n;
}

export interface MnsReply {
  status: number;
  requestId: string;
  headers?: Record<string, string>;
  root?: string;
  children?: readonly XmlNode[];
}

export function sendMnsReply(res: ServerResponse, reply: MnsReply): void {
  const body = reply.root === undefined ? "" : xmlDocument(reply.root, reply.children ?? []);
  res.writeHead(reply.status, {
    ...(body ? { "content-type": "text/xml;charset=utf-8" } : {}),
    "content-length": String(Buffer.byteLength(body)),
    "x-mns-request-id": reply.requestId,
    "x-mns-version": MNS_VERSION,
    date: new Date().toUTCString(),
    server: "AliyunMNS",
    ...reply.headers,
  });
  res.end(body);
}

export function errorReply(
  status: number,
  code: string,
  message: string,
  requestId: string,
  hostId: string,
): MnsReply {
  return {
    status,
    requestId,
    root: "Error",
    children: [
      ["Code", code],
      ["Message", message],
      ["RequestId", requestId],
      ["HostId", hostId],
    ],
  };
}

export function messageNodes(m: MessageView): XmlNode[] {
  // A received message has a handle and a next visible time; a peeked one has neither.
  const received = m.receiptHandle !== undefined;
  const nodes: (XmlNode | false)[] = [
    ["MessageId", m.messageId],
    received && ["ReceiptHandle", m.receiptHandle ?? ""],
    ["MessageBodyMD5", m.bodyMd5],
    ["MessageBody", m.body],
    ["EnqueueTime", m.enqueueTime],
    received && ["NextVisibleTime", m.nextVisibleTime],
    ["FirstDequeueTime", m.firstDequeueTime],
    ["DequeueCount", m.dequeueCount],
    ["Priority", m.priority],
  ];
  return nodes.filter((n): n is XmlNode => n !== false);
}

export function queueAttributeNodes(q: MnsQueue): XmlNode[] {
  const a = q.attributes;
  const s = q.stats();
  return [
    ["QueueName", q.name],
    ["CreateTime", Math.floor(q.createTime / 1000)],
    ["LastModifyTime", Math.floor(q.lastModifyTime / 1000)],
    ["DelaySeconds", a.delaySeconds],
    ["MaximumMessageSize", a.maximumMessageSize],
    ["MessageRetentionPeriod", a.messageRetentionPeriod],
    ["VisibilityTimeout", a.visibilityTimeout],
    ["PollingWaitSeconds", a.pollingWaitSeconds],
    ["ActiveMessages", s.active],
    ["InactiveMessages", s.inactive],
    ["DelayMessages", s.delayed],
    ["LoggingEnabled", a.loggingEnabled ? "True" : "False"],
  ];
}

type NumericAttribute = Exclude<keyof QueueAttributes, "loggingEnabled">;

/** The numeric `<Queue>` children, in the order MNS checks them: element, bounds, unit. */
const NUMERIC_ATTRIBUTES: readonly [NumericAttribute, string, number, number, string][] = [
  ["delaySeconds", "DelaySeconds", 0, 604800, "seconds"],
  ["maximumMessageSize", "MaximumMessageSize", 1024, 65536, "bytes"],
  ["messageRetentionPeriod", "MessageRetentionPeriod", 60, 604800, "seconds"],
  ["visibilityTimeout", "VisibilityTimeout", 1, 43200, "seconds"],
  ["pollingWaitSeconds", "PollingWaitSeconds", 0, 30, "seconds"],
];

/** `<Queue>` children of CreateQueue / SetQueueAttributes, over `base`. */
export function parseQueueAttributes(
  queue: unknown,
  base: QueueAttributes = DEFAULT_QUEUE_ATTRIBUTES,
): QueueAttributes {
  const el = typeof queue === "object" && queue !== null ? queue : {};
  const logging = childText(el, "LoggingEnabled");
  if (logging === null || (logging !== undefined && !/^(true|false)$/i.test(logging))) {
    throw new MnsError(
      400,
      "InvalidArgument",
      "The value of LoggingEnabled should be True or False.",
    );
  }
  const attributes: QueueAttributes = {
    ...base,
    loggingEnabled: logging === undefined ? base.loggingEnabled : logging.toLowerCase() === "true",
  };
  for (const [key, element, low, high, unit] of NUMERIC_ATTRIBUTES) {
    attributes[key] = intArg(childText(el, element), element, low, high, unit) ?? base[key];
  }
  return attributes;
}

export interface OutgoingMessage {
  body: string;
  delaySeconds: number | undefined;
  priority: number | undefined;
}

export function parseOutgoingMessage(el: unknown, maxBytes: number): OutgoingMessage {
  const body = childText(el, "MessageBody");
  if (body === null) {
    throw MALFORMED_XML();
  }
  if (body === undefined || body === "" || Buffer.byteLength(body) > maxBytes) {
    throw invalidArgument("MessageBody", 1, maxBytes, "bytes");
  }
  return {
    body,
    delaySeconds: intArg(childText(el, "DelaySeconds"), "DelaySeconds", 0, 604800, "seconds"),
    priority: intArg(childText(el, "Priority"), "Priority", 1, 16),
  };
}
