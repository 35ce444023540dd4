/** Configuration of the SmartCall callback (src/smartcall/): webhook, rules file, default answer. */
import { z } from "zod";

import { emptyAsUndefined, intInRange, optionalString, type Parsed } from "./parse.js";

/** Actions a SmartCall callback may answer (docs/alibaba.md §1.6). */
export const SMART_CALL_ACTIONS = [
  "play",
  "break",
  "continue",
  "hangup",
  "transfer",
  "donothing",
  "dtmf",
  "parallel_transfer",
  "parallel_bridge",
] as const;

export const smartCallEnv = {
  VMS_SMART_CALL_FORWARD_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .optional()
      .refine((s) => s === undefined || /^https?:\/\/\S+$/.test(s), {
        message: "must be an http:// or https:// URL",
      }),
  ),
  VMS_SMART_CALL_RULES: optionalString,
  VMS_SMART_CALL_DEFAULT_ACTION: z.preprocess(
    emptyAsUndefined,
    z
      .enum(SMART_CALL_ACTIONS, {
        message: `must be one of ${SMART_CALL_ACTIONS.join(", ")}`,
      })
      .default("continue"),
  ),
  /** Whole-answer budget of a smart-call callback (the webhook gets what is left of it). */
  VMS_SMART_CALL_DEADLINE_MS: intInRange(50, 10_000, 800),
};

export interface SmartCallConfig {
  forwardUrl: string | undefined;
  rulesPath: string | undefined;
  defaultAction: (typeof SMART_CALL_ACTIONS)[number];
  /** The callback is answered at most this long after it arrived, whatever the webhook does. */
  deadlineMs: number;
}

export function smartCallConfig(e: Parsed<typeof smartCallEnv>): SmartCallConfig {
  return {
    forwardUrl: e.VMS_SMART_CALL_FORWARD_URL,
    rulesPath: e.VMS_SMART_CALL_RULES,
    defaultAction: e.VMS_SMART_CALL_DEFAULT_ACTION,
    deadlineMs: e.VMS_SMART_CALL_DEADLINE_MS,
  };
}
