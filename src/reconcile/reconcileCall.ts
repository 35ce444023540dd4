/**
 * Reconciling one call: read it, decide whether it still needs work, ask QueryCallDetailByCallId
 * with the ProdIds worth trying, and write the outcome. Returns what the job should do next;
 * the BullMQ mapping is in worker.ts.
 */
import { normalizeReceipt } from "../domain/receipt.js";
import {
  computeDiscrepancies,
  detailValues,
  mergeDiscrepancies,
  statusMessageFor,
  type ComparedValues,
  type JsonObject,
} from "./detail.js";
import { Reschedule, type DetailApi } from "./detailApi.js";
import type { DetailLagMemory } from "./detailLag.js";
import { afterEmptyRound, callEndedAt, giveUpAtMs, queryDateMs } from "./policy.js";
import { prodIdKey, type ProdIdMemory } from "./prodIds.js";
import { evidenceField, planCallRound, sweepShouldStop } from "./roundPlan.js";
import { policySelects } from "./selection.js";
import {
  ANNOUNCED_FIELD,
  evidenceAgeMs,
  roundCountsAsEvidence,
  UNSUPPORTED_LOG,
  UNSUPPORTED_SAMPLE_EVERY,
} from "./unsupportedKinds.js";
import type { CallSnapshot } from "../store/calls/reads.js";
import type { ReconcileWrite } from "../store/calls/reconcileWrites.js";
import type { ReconcilePolicy } from "../config/index.js";
import type { Logger } from "../logger.js";

export type Outcome =
  | {
      kind: "done";
      result:
        | "reconciled"
        | "reapplied"
        | "not_found"
        | "skipped"
        | "policy_skipped"
        | "unsupported"
        | "stale"
        | "missing";
      /** The learning key of a call skipped as `unsupported` (the metric's label). */
      key?: string;
    }
  /** Put the job back: `transient` is the job's new failure count; `touchRow` moves due_at. */
  | { kind: "later"; delayMs: number; transient: number; reason: string; touchRow: boolean };

export interface CallReconcilerDeps {
  prodIds: readonly string[];
  /** VMS_RECONCILE_POLICY; decided when the first query is due (selection.ts). */
  policy: ReconcilePolicy;
  giveUpMs: number;
  retryBaseMs: number;
  load(callId: string): Promise<CallSnapshot | undefined>;
  loadReport(callId: string): Promise<unknown>;
  write(w: ReconcileWrite): Promise<boolean>;
  api: DetailApi;
  memory: ProdIdMemory;
  /** What the learned first-query delay is made of (detailLag.ts); absent in unit tests. */
  lag?: Pick<DetailLagMemory, "firstEmpty" | "found" | "gaveUp" | "knownLagMs">;
  logger: Logger;
}

/** A job that runs more than this before its row's due time goes back to sleep (duplicate/early). */
const EARLY_TOLERANCE_MS = 1000;

const done = (result: Extract<Outcome, { kind: "done" }>["result"]): Outcome => ({
  kind: "done",
  result,
});

/** The compared fields as the receipts gave them: the row itself while the call is pending. */
function rowValues(call: CallSnapshot): ComparedValues {
  return {
    statusCode: call.statusCode,
    startTime: call.startTime,
    endTime: call.endTime,
    durationSeconds: call.durationSeconds,
    caller: call.caller,
    callee: call.callee,
    hangupDirection: call.hangupDirection,
  };
}

/** The compared fields of a VoiceReport body (a CDR that arrived after the call was reconciled). */
export function reportValues(body: unknown): ComparedValues | undefined {
  const n = body === undefined ? undefined : normalizeReceipt("VoiceReport", body);
  const p = n?.ok ? n.receipt.call : null;
  if (!p) {
    return undefined;
  }
  return {
    statusCode: p.statusCode,
    startTime: p.startTime,
    endTime: p.endTime,
    durationSeconds: p.durationSeconds,
    caller: p.caller,
    callee: p.callee,
    hangupDirection: p.hangupDirection,
  };
}

/**
 * The write for a found (or stored) detail. A pending call's row still holds the receipts'
 * values, so they are what the detail is compared with; a reconciled call's row holds the
 * detail's, so only a late VoiceReport can disagree, and earlier disagreements are kept.
 */
export function buildReconciledWrite(
  call: CallSnapshot,
  detail: JsonObject,
  prodId: string,
  attemptIncrement: number,
  lateReport: ComparedValues | undefined,
): Extract<ReconcileWrite, { kind: "reconciled" }> {
  const values = detailValues(detail);
  const discrepancies =
    call.reconcileStatus === "pending"
      ? computeDiscrepancies(rowValues(call), values)
      : mergeDiscrepancies(
          call.discrepancies,
          lateReport ? computeDiscrepancies(lateReport, values) : {},
        );
  return {
    kind: "reconciled",
    callId: call.callId,
    version: call.version,
    prodId,
    detail,
    discrepancies,
    columns: { ...values, statusMsg: statusMessageFor(values, call.statusCode) },
    attemptIncrement,
  };
}

const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function createCallReconciler(d: CallReconcilerDeps) {
  /** Write the detail; on a concurrent change of the row, re-read and compute again. */
  async function apply(
    first: CallSnapshot,
    detail: JsonObject,
    prodId: string,
    increment: number,
  ): Promise<void> {
    let call = first;
    for (let i = 0; i < 5; i++) {
      const late =
        call.reconcileStatus === "reconciled"
          ? reportValues(await d.loadReport(call.callId))
          : undefined;
      if (await d.write(buildReconciledWrite(call, detail, prodId, increment, late))) {
        return;
      }
      const fresh = await d.load(call.callId);
      if (
        !fresh ||
        (fresh.reconcileStatus !== "pending" && fresh.reconcileStatus !== "reconciled")
      ) {
        return;
      }
      call = fresh;
    }
    throw new Error(`call ${call.callId} kept changing while it was being reconciled`);
  }

  return async function reconcileCall(
    callId: string,
    transient: number,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const call = await d.load(callId);
    if (!call) {
      return done("missing");
    }
    if (call.reconcileStatus === "pending" && call.direction === "inbound") {
      await d.write({ kind: "skipped", callId, reason: "inbound" });
      return done("skipped");
    }
    const reapply = call.reconcileStatus === "reconciled" && call.changed;
    if (call.reconcileStatus !== "pending" && !reapply) {
      return done("stale");
    }
    if (call.dueInMs !== null && call.dueInMs > EARLY_TOLERANCE_MS) {
      return { kind: "later", delayMs: call.dueInMs, transient, reason: "early", touchRow: false };
    }
    if (reapply) {
      // The stored detail is final: no need to spend quota asking again.
      if (isObject(call.detail) && call.prodId !== null) {
        await apply(call, call.detail, call.prodId, 0);
      }
      return done("reapplied");
    }

    // The policy speaks once, before the first query (an early or put-back job has not asked
    // yet, so it is asked again then); a call already queried is followed through.
    if (call.reconcileAttempts === 0 && !policySelects(d.policy, call)) {
      await d.write({ kind: "skipped", callId, reason: "policy" });
      return done("policy_skipped");
    }
    const key = prodIdKey(call.outId, call);
    const giveUp = giveUpAtMs(call, d.giveUpMs);
    const final = Date.now() >= giveUp;
    const round = planCallRound({
      configured: d.prodIds,
      key,
      all: await d.memory.all(),
      callId,
      attempts: call.reconcileAttempts,
      final,
    });
    if (round.mode === "skip") {
      if (await d.memory.flagOnce(key, ANNOUNCED_FIELD)) {
        d.logger.warn({ kind: key, sampleEvery: UNSUPPORTED_SAMPLE_EVERY }, UNSUPPORTED_LOG);
      }
      if (call.reconcileAttempts > 0) {
        d.lag?.gaveUp(callId);
      }
      await d.write({ kind: "skipped", callId, reason: "unsupported" });
      return { kind: "done", result: "unsupported", key };
    }
    const queryDate = queryDateMs(call);
    const attempts = call.reconcileAttempts + 1;
    const times = { endedAtMs: callEndedAt(call).getTime(), nowMs: Date.now() };
    // When the first query was due after the call's end (baseline or not, detailLag.ts).
    const scheduledMs =
      call.dueInMs === null ? undefined : times.nowMs + call.dueInMs - times.endedAtMs;
    const evidence = roundCountsAsEvidence(round.mode === "probe", {
      ...times,
      attempts,
      prodIds: d.prodIds.length,
      retryBaseMs: d.retryBaseMs,
      fromAgeMs: evidenceAgeMs(d.lag?.knownLagMs()),
    });
    let first = true;
    for (const prodId of round.prodIds) {
      const stats = first ? undefined : await d.memory.stats(key);
      if (!first && sweepShouldStop({ ...round, final, stats, configured: d.prodIds, key })) {
        break;
      }
      first = false;
      let answer;
      try {
        answer = await d.api.query({ callId, prodId, queryDateMs: queryDate }, transient, signal);
      } catch (err) {
        if (err instanceof Reschedule) {
          return {
            kind: "later",
            delayMs: err.delayMs,
            transient: transient + 1,
            reason: err.reason,
            touchRow: true,
          };
        }
        throw err;
      }
      if (answer.kind === "found") {
        void d.memory.learn(key, prodId);
        const ageMs = Date.now() - times.endedAtMs;
        await apply(call, answer.detail, prodId, 1);
        // After the write: a job redone because it failed would record the age twice.
        d.lag?.found(callId, call.reconcileAttempts, ageMs, scheduledMs);
        return done("reconciled");
      }
      const field = evidence ? evidenceField(round.mode, prodId) : undefined;
      if (field !== undefined) {
        void d.memory.note(key, field);
      }
      if (answer.kind === "invalid") {
        d.logger.warn(
          { callId, prodId, reason: answer.reason },
          "QueryCallDetailByCallId answered an undecodable Data; treated as not there yet",
        );
      }
    }

    if (attempts === 1) {
      d.lag?.firstEmpty(callId, Date.now() - times.endedAtMs, scheduledMs);
    }
    const next = afterEmptyRound({
      nowMs: Date.now(),
      attempts,
      giveUpAtMs: giveUp,
      baseMs: d.retryBaseMs,
    });
    if (next.kind === "not_found") {
      d.lag?.gaveUp(callId);
      await d.write({ kind: "not_found", callId, attempts });
      return done("not_found");
    }
    await d.write({ kind: "retry", callId, attempts, delayMs: next.delayMs });
    return { kind: "later", delayMs: next.delayMs, transient: 0, reason: "empty", touchRow: false };
  };
}
