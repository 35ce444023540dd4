/**
 * Configuration of reconciliation (src/reconcile/): QueryCallDetailByCallId's endpoint, its
 * rate, the ProdIds tried, when to give up, and which calls are queried at all.
 */
import { z } from "zod";

import { HOUR, SECOND } from "../domain/time.js";

import type { AlibabaCredentials } from "./connections.js";
import { commaList, endpoint, intInRange, lowerCased, onOff, type Parsed } from "./parse.js";

/** Which calls reconcile queries (VMS_RECONCILE_POLICY); see src/reconcile/selection.ts. */
export type ReconcilePolicy =
  | { kind: "all" }
  /** Only calls without a VoiceReport or whose VoiceReport status is not a success. */
  | { kind: "incomplete" }
  /** A share `rate` (0 < rate ≤ 1) of calls, chosen by a hash of call_id. */
  | { kind: "sample"; rate: number };

const reconcilePolicy = z.preprocess(
  lowerCased,
  z
    .string()
    .default("all")
    .transform((s, ctx): ReconcilePolicy => {
      if (s === "all" || s === "incomplete") {
        return { kind: s };
      }
      const m = /^(?:sample:)?(\d*\.?\d+)$/.exec(s);
      const rate = m ? Number(m[1]) : NaN;
      if (!(rate > 0 && rate <= 1)) {
        ctx.addIssue({
          code: "custom",
          message: `must be all, incomplete, or a sample rate above 0 and at most 1 such as sample:0.1 (VMS_RECONCILE=off queries nothing), got "${s}"`,
        });
        return z.NEVER;
      }
      return rate === 1 ? { kind: "all" } : { kind: "sample", rate };
    }),
);

const prodIds = commaList(
  "11000000300006,11010000138001,11000000300005,11030000180001",
  (id) => /^\d{1,20}$/.test(id),
  (_bad, s) => `must be a comma list of numeric ProdIds, got "${s}"`,
);

export const reconcileEnv = {
  VMS_API_ENDPOINT: endpoint("https://dyvmsapi.aliyuncs.com"),
  VMS_RECONCILE: onOff,
  VMS_RECONCILE_DELAY_SECONDS: intInRange(0, 24 * 3600, 180),
  VMS_RECONCILE_QPS: intInRange(1, 100, 50),
  VMS_RECONCILE_PROD_IDS: prodIds,
  VMS_RECONCILE_GIVE_UP_HOURS: intInRange(1, 24 * 30, 24),
  VMS_RECONCILE_POLICY: reconcilePolicy,
};

export interface ReconcileConfig {
  enabled: boolean;
  delayMs: number;
  qps: number;
  prodIds: string[];
  giveUpMs: number;
  /** Which calls are queried; the others end `skipped` with reason `policy`. */
  policy: ReconcilePolicy;
}

/** On by default when there are credentials to query with. */
export function reconcileConfig(
  e: Parsed<typeof reconcileEnv>,
  credentials: AlibabaCredentials | undefined,
  problems: string[],
): ReconcileConfig {
  if (e.VMS_RECONCILE === true && credentials === undefined) {
    problems.push(
      "  VMS_RECONCILE: on needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    );
  }
  return {
    enabled: e.VMS_RECONCILE ?? credentials !== undefined,
    delayMs: e.VMS_RECONCILE_DELAY_SECONDS * SECOND,
    qps: e.VMS_RECONCILE_QPS,
    prodIds: e.VMS_RECONCILE_PROD_IDS,
    giveUpMs: e.VMS_RECONCILE_GIVE_UP_HOURS * HOUR,
    policy: e.VMS_RECONCILE_POLICY,
  };
}
