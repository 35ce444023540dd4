/**
 * What an MNS failure means for the poll loop. `@alicloud/mns` throws Error with
 * name = "MNS" + Code + "Error" for XML error bodies, Node/httpx errors for transport failures,
 * and resolves (no throw) for non-XML error statuses — those are classified by status.
 */
export type MnsFailure =
  /** 404 MessageNotExist on receive: the queue is empty (normal). */
  | { kind: "empty" }
  /** The STS token was rejected: refresh it at once. */
  | { kind: "token"; code: string }
  /** Wrong queue name or missing permission: loud, retried slowly. */
  | { kind: "config"; code: string }
  /** Network, 5xx, throttling: back off with jitter. */
  | { kind: "transient"; code: string };

const TOKEN_CODES = new Set([
  "SecurityTokenExpired",
  "InvalidSecurityToken",
  "SecurityTokenMalformed",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
]);
const CONFIG_CODES = new Set(["QueueNotExist", "AccessDenied", "InvalidQueueName"]);

export function mnsErrorCode(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown };
  const name = typeof e?.name === "string" ? e.name : "";
  const m = /^MNS(.+)Error$/.exec(name);
  if (m?.[1]) {
    return m[1];
  }
  if (typeof e?.code === "string") {
    return e.code;
  }
  return name || "Unknown";
}

export function classifyMnsError(err: unknown): MnsFailure {
  const code = mnsErrorCode(err);
  if (code === "MessageNotExist") {
    return { kind: "empty" };
  }
  if (TOKEN_CODES.has(code)) {
    return { kind: "token", code };
  }
  if (CONFIG_CODES.has(code)) {
    return { kind: "config", code };
  }
  return { kind: "transient", code };
}

/** What to tell the operator for a configuration failure. */
export function configHint(code: string): string {
  if (code === "QueueNotExist" || code === "InvalidQueueName") {
    return "check the queue name in VMS_MNS_QUEUES against the console (通用设置 → 订阅回执消息)";
  }
  return "check that this account has subscribed to the receipt type and that VMS_MNS_QUEUES pairs each MessageType with its own queue";
}
