/**
 * The learned first-query delay (issue #24): how long after a call's end its detail is likely
 * in QueryCallDetailByCallId, from what the reconciler saw. The pure rules; the shared record
 * they read lives in detailLag.ts.
 *
 * What is measured: for a call that was eventually found, its age (time since the call ended)
 * when the found answer came. Only "baseline" calls count: those first asked at the configured
 * delay (VMS_RECONCILE_DELAY_SECONDS). A call first asked at the learned delay D that is found
 * at once only says "the lag is ≤ D", so counting it would hold D up for ever (or, counted as a
 * lag of D, pull nothing down); a baseline call's found age does not depend on D. So the
 * scheduler keeps asking about one new call in BASELINE_EVERY at the configured delay, and the
 * estimate follows the lag down as well as up.
 *
 * The estimate: the LAG_QUANTILE (90 %) quantile of the last LAG_WINDOW found ages, clamped to
 * [configured, cap]. A found age is an upper bound of that call's lag (the detail appeared
 * between the last empty answer and the found one), so the quantile never undershoots the lags'
 * own; it overshoots by at most one retry step (retries are spaced retryBaseMs × 2^n).
 * Never-found calls, and calls of kinds judged unsupported (unsupportedKinds.ts), are never
 * found, so they never count.
 */
import { HOUR } from "../domain/time.js";
import { retryBaseMs } from "./policy.js";

/** About one new call in this many is first asked at the configured delay (the baseline). */
export const BASELINE_EVERY = 10;
/** The share of details that should be there at the first query. */
export const LAG_QUANTILE = 0.9;
/** Found ages kept (the most recent); the estimate follows the last ~window × BASELINE_EVERY calls. */
export const LAG_WINDOW = 100;
/** Fewer found ages than this: not enough to say anything, the configured delay stands. */
export const LAG_MIN_SAMPLES = 10;

export interface LagSettings {
  /** VMS_RECONCILE_DELAY_SECONDS in ms: the floor. */
  configuredMs: number;
  /** The ceiling (lagCapMs). */
  capMs: number;
  quantile?: number;
  minSamples?: number;
}

/**
 * The ceiling of the learned delay: a quarter of the give-up window (VMS_RECONCILE_GIVE_UP_HOURS),
 * at most an hour, so a call always has most of its window left for retries and a runaway
 * estimate cannot delay reconciliation by more than an hour.
 */
export function lagCapMs(configuredMs: number, giveUpMs: number): number {
  return Math.max(configuredMs, Math.min(HOUR, Math.floor(giveUpMs / 4)));
}

/** How far a call's scheduled first query may be from the configured delay and still be one of it. */
export const BASELINE_SCHEDULE_TOLERANCE_MS = 1000;

/**
 * Whether a call's first answer is a baseline measure of the lag: the call was scheduled at the
 * configured delay (`scheduledMs`, its first query's due time after its end, is within
 * BASELINE_SCHEDULE_TOLERANCE_MS of it: not the learned delay, not a backlog scheduled late),
 * and the query ran within one retry step of it (a job may run late when the queue is busy).
 * Judged by the age alone, calls scheduled at a learned delay D ≤ configured + one retry step
 * would count too, and, found at once, hold D up (it crept to configured + retry step on its own).
 */
export function isBaselineQuery(p: {
  firstAgeMs: number;
  scheduledMs: number | undefined;
  configuredMs: number;
}): boolean {
  return (
    p.scheduledMs !== undefined &&
    p.scheduledMs <= p.configuredMs + BASELINE_SCHEDULE_TOLERANCE_MS &&
    p.firstAgeMs <= p.configuredMs + retryBaseMs(p.configuredMs)
  );
}

/** The first-query delay for new calls, from the found ages of baseline calls (ms). */
export function learnedDelayMs(foundAgesMs: readonly number[], s: LagSettings): number {
  const ages = foundAgesMs.filter((a) => Number.isFinite(a) && a >= 0).sort((a, b) => a - b);
  const cap = Math.max(s.configuredMs, s.capMs);
  if (ages.length < (s.minSamples ?? LAG_MIN_SAMPLES)) {
    return s.configuredMs;
  }
  const q = Math.min(1, Math.max(0, s.quantile ?? LAG_QUANTILE));
  // The smallest age at or below which at least q of the ages lie.
  const at = ages[Math.max(0, Math.ceil(q * ages.length) - 1)] ?? s.configuredMs;
  return Math.min(cap, Math.max(s.configuredMs, Math.round(at)));
}

/** Worth a log line: a change of a fifth or more (and at least a second). */
export function changedMaterially(beforeMs: number, afterMs: number): boolean {
  return Math.abs(afterMs - beforeMs) >= Math.max(1000, 0.2 * Math.min(beforeMs, afterMs));
}
