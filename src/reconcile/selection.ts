/**
 * VMS_RECONCILE_POLICY: which calls are worth a QueryCallDetailByCallId query. The account may
 * make 100 queries a second, 8.64 M a day at most, fewer than a large user places calls, so
 * the quota goes where it tells us something:
 *
 *   - `all` (default): every outbound call;
 *   - `incomplete`: calls whose VoiceReport never arrived (calls.report_received_at is null),
 *     or arrived with a status that is not a success, i.e. not one of ANSWERED_STATUS_CODES
 *     (200000 listened to the end, 200001 hung up early, 200100 DoubleCall bridged). The
 *     detail then fills what the receipts lack or confirms why the call failed; a successful
 *     CDR already holds the fields the detail would give;
 *   - a sample rate `sample:R` (or `R`), 0 < R < 1: the calls whose call_id hashes below R, a
 *     deterministic choice, so every process, every retry and every restart agrees on a call.
 *
 * When it is decided: once, when the call is due for its first query (VMS_RECONCILE_DELAY_SECONDS
 * after it ended), not when the call is first seen: a VoiceReport usually comes after the
 * in-call events, and deciding at first sight would query calls whose CDR was about to arrive.
 * (A sample depends on the call_id alone, so the scheduler applies it as soon as it schedules
 * the call, with the same result and no job for the calls left out.) A call chosen for querying
 * keeps being queried until found or given up (`not_found`), even if its VoiceReport arrives
 * meanwhile. A call left out is `skipped` with reason `policy` for good:
 * a VoiceReport arriving after the due time does not bring it back.
 */
import { createHash } from "node:crypto";

import type { ReconcilePolicy } from "../config/index.js";
import { ANSWERED_STATUS_CODES } from "../domain/statusCodes.js";

/** What the policy looks at, from the `calls` row at the due time. */
export interface PolicyFacts {
  callId: string;
  /** A VoiceReport (the CDR) has been received for this call. */
  hasReport: boolean;
  /** calls.status_code: the VoiceReport's status once there is one. */
  statusCode: string | null;
}

/**
 * A number in [0, 1) fixed by the call_id: the first 32 bits of its SHA-256. Hashing (rather
 * than, say, the digits of the id) keeps the sample unbiased whatever the id scheme.
 */
export function sampleFraction(callId: string): number {
  return createHash("sha256").update(callId, "utf8").digest().readUInt32BE(0) / 2 ** 32;
}

/** Whether the CDR says the call succeeded (the callee picked up). */
export function isSuccessfulReport(facts: PolicyFacts): boolean {
  return (
    facts.hasReport && facts.statusCode !== null && ANSWERED_STATUS_CODES.includes(facts.statusCode)
  );
}

/** True when the policy wants this call queried. */
export function policySelects(policy: ReconcilePolicy, facts: PolicyFacts): boolean {
  switch (policy.kind) {
    case "all":
      return true;
    case "incomplete":
      return !isSuccessfulReport(facts);
    case "sample":
      return sampleFraction(facts.callId) < policy.rate;
  }
}

/** The policy as operators write it, for logs. */
export function describePolicy(policy: ReconcilePolicy): string {
  return policy.kind === "sample" ? `sample:${policy.rate}` : policy.kind;
}
