/**
 * The answer to a SmartCall callback (智能语音交互呼出回调HTTP接口, 返回参数):
 *
 *   {"result":"success","msg":"成功","data":{"call_id":…,"action":"play","action_code":"a.wav",…}}
 *
 * `action` is one of SMART_CALL_ACTIONS; `action_code` is documented as required, so it is
 * always sent ("" when the action needs none). The other documented fields (action_break,
 * mute_time, number, dynamic_id, …) are validated here and passed through; the webhook may add
 * fields this version does not know, as long as they are scalars.
 */
import { z } from "zod";

import { SMART_CALL_ACTIONS } from "../config/index.js";
import { FORBIDDEN_KEYS } from "../domain/json.js";

export type SmartCallAction = (typeof SMART_CALL_ACTIONS)[number];
export type AnswerValue = string | number | boolean;

/** The `data` object of a reply, without `call_id` (added when replying). */
export type AnswerData = { action: SmartCallAction; action_code: string } & Record<
  string,
  AnswerValue
>;

export const SMART_CALL_OK = { result: "success", msg: "成功" } as const;

export interface SmartCallReply {
  result: "success";
  msg: string;
  data: { call_id: string } & AnswerData;
}

export interface SmartCallFailure {
  result: "fail";
  msg: string;
  data: Record<string, never>;
}

export function successReply(callId: string, answer: AnswerData): SmartCallReply {
  return { ...SMART_CALL_OK, data: { ...answer, call_id: callId } };
}

/** The documented failure shape, used for 400 and 401. */
export function failureReply(msg: string): SmartCallFailure {
  return { result: "fail", msg, data: {} };
}

const bool = z.union([z.boolean(), z.enum(["true", "false"]).transform((s) => s === "true")]);
const int = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/, "must be a whole number")
    .transform(Number),
]);
const text = z.union([z.string(), z.number().transform(String)]);

/** The optional response fields of the documentation, with their types. */
export const ANSWER_FIELDS = {
  action_code: text,
  action_break: bool,
  action_code_break: bool,
  mute_time: int,
  dynamic_id: text,
  /** Documented as a JSON string; an object is serialised. */
  action_code_param: z.union([
    z.string(),
    z.record(z.string(), z.unknown()).transform((o) => JSON.stringify(o)),
  ]),
  number: text,
  action_code_time_break: int,
  dtmf_nonin_overtime: int,
  dtmf_max_numbers: int,
  dtmf_end_character: z.string(),
  transfer_playfile: z.string(),
  is_monitor: bool,
  cc_name: z.string(),
  extend: text,
} as const;

export const actionSchema = z.enum(SMART_CALL_ACTIONS, {
  error: (iss) =>
    `must be one of ${SMART_CALL_ACTIONS.join(", ")}${
      iss.input === undefined ? "" : `, got ${JSON.stringify(iss.input)}`
    }`,
});

/** ANSWER_FIELDS, each optional (null = absent): spread into the webhook and rule schemas. */
export const optionalAnswerFields = Object.fromEntries(
  Object.entries(ANSWER_FIELDS).map(([k, v]) => [k, v.nullish()]),
) as {
  [K in keyof typeof ANSWER_FIELDS]: z.ZodOptional<z.ZodNullable<(typeof ANSWER_FIELDS)[K]>>;
};

/** Keys never taken from a webhook or rule: we set call_id; result/msg/data belong to the envelope. */
const RESERVED = new Set(["call_id", "result", "msg", "data"]);

const webhookAnswerSchema = z
  .object({ action: actionSchema, ...optionalAnswerFields })
  .catchall(z.union([z.string(), z.number(), z.boolean(), z.null()]));

/** Drops undefined/null values and reserved keys, and fills action_code. */
export function toAnswerData(fields: Record<string, unknown>): AnswerData {
  const out: Record<string, AnswerValue> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null || RESERVED.has(k) || FORBIDDEN_KEYS.has(k)) {
      continue;
    }
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      out[k] = v;
    }
  }
  return {
    ...out,
    action: fields.action as SmartCallAction,
    action_code: String(out.action_code ?? ""),
  };
}

export type WebhookAnswer =
  { kind: "answer"; answer: AnswerData } | { kind: "none" } | { kind: "invalid"; reason: string };

/**
 * Reads a webhook's JSON answer: `{action, action_code?, …}`, or the platform's own reply shape
 * `{result, msg, data: {action, …}}` (so an existing SmartCall callback service can be the
 * webhook). No `action` (or `action: null`) means "no opinion": rules and default decide.
 */
export function readWebhookAnswer(body: unknown): WebhookAnswer {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { kind: "invalid", reason: "answer is not a JSON object" };
  }
  let obj = body as Record<string, unknown>;
  if (obj.action === undefined && typeof obj.data === "object" && obj.data !== null) {
    obj = obj.data as Record<string, unknown>;
  }
  if (obj.action === undefined || obj.action === null) {
    return { kind: "none" };
  }
  const parsed = webhookAnswerSchema.safeParse(obj);
  if (!parsed.success) {
    return {
      kind: "invalid",
      reason: parsed.error.issues
        .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
        .join("; "),
    };
  }
  return { kind: "answer", answer: toAnswerData(parsed.data) };
}
