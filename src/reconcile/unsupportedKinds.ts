/**
 * Kinds of call whose details never come. One version of Alibaba's docs says
 * QueryCallDetailByCallId does not cover voice-robot calls; whether that holds for an account is
 * learnt, not assumed. A kind (the ProdId learning key of prodIds.ts: robot tasks, an out_id
 * prefix) is `unsupported` when many of its calls came back empty for every ProdId once their
 * detail should have been there (countsAsEvidence, past the learned detail lag) while almost none was ever found, and
 * other kinds are found meanwhile (so it is not the API or the account that is failing).
 * Calls of such a kind are then `skipped` (reason `unsupported`) except a sample that is still
 * asked: once the sample's calls are found the kind's share of found calls rises and it comes back.
 *
 * Judging costs few requests: once a kind never found came back empty for every ProdId, or
 * often for its likely one (the kind is `suspect`), its next calls ask one ProdId each, the one
 * with the least evidence so far; evidence is kept per ProdId, noted as each answer comes back. The kind is judged when every ProdId
 * has UNSUPPORTED_MIN_CALLS empty calls: 4 × 7 requests rather than 4 per call for 20 calls.
 */
import { RETRY_MAX_MS } from "./policy.js";
import type { ProdIdStats } from "./prodIds.js";

/** Stats fields that are not ProdIds start with this (a ProdId is digits). */
export const META = "#";
/** Calls of the key that came back empty for every ProdId when they should have been there. */
export const EMPTY_FIELD = `${META}empty`;
/** Calls of a suspect key asked only `prodId` that came back empty when they should have been there. */
export const emptyField = (prodId: string): string => `${META}empty:${prodId}`;
/** Set once the kind was logged as unsupported (every process logs it at most once in all). */
export const ANNOUNCED_FIELD = `${META}announced`;

/**
 * Empty calls each ProdId needs before a kind can be judged; other kinds need as many found.
 * The confidence rule: were the kind answered under some ProdId for a share f of its calls, 7
 * calls in a row all empty under it has probability (1 − f)^7: under 1 % for f ≥ ½, 10⁻⁷ for
 * f = 0.9 (a wrong judgement would still be undone by the sample).
 */
export const UNSUPPORTED_MIN_CALLS = 7;
/** Logged once, when a kind is first judged unsupported: what it means for the operator. */
export const UNSUPPORTED_LOG =
  "QueryCallDetailByCallId never has details for this kind of call (empty for every ProdId " +
  "across many calls while other kinds are found; some docs say robot calls are not " +
  "covered): its calls are now skipped with reason 'unsupported' instead of spending " +
  "quota, and one in sampleEvery is still asked so the kind comes back if that changes";
/** Found share under which a kind is unsupported. */
export const UNSUPPORTED_FOUND_SHARE = 0.05;
/** One call in this many of an unsupported kind is still asked. */
export const UNSUPPORTED_SAMPLE_EVERY = 20;
/** A call ended this long ago has its detail if it ever will (the docs' lag is 3–5 min). */
export const DETAIL_SURELY_THERE_MS = 10 * 60_000;

/** When a call's round runs, and what the evidence rules compare it with. */
interface RoundTimes {
  endedAtMs: number;
  nowMs: number;
  /** The retry step (policy.ts retryBaseMs). */
  retryBaseMs: number;
  /** The age by which the call's detail should be there (evidenceAgeMs). */
  fromAgeMs: number;
}

/**
 * How many of a call's earlier rounds may already have been at an age ≥ `fromAgeMs` (an upper
 * bound, so a call is never counted twice), or undefined when this round itself is younger.
 * Rounds are spaced retryBaseMs × 2^(n−1) ± 10 % (policy.ts afterEmptyRound): the smallest gaps
 * are assumed, and a job run late only makes an earlier round younger than assumed (one count
 * fewer, never one more).
 */
export function earlierRoundsPast(
  p: RoundTimes & { /** Rounds done before this one. */ rounds: number },
): number | undefined {
  let age = p.nowMs - p.endedAtMs;
  if (age < p.fromAgeMs) {
    return undefined;
  }
  let n = 0;
  for (let k = p.rounds; k >= 1; k--) {
    age -= 0.9 * Math.min(RETRY_MAX_MS, p.retryBaseMs * 2 ** Math.min(30, k - 1));
    if (age < p.fromAgeMs) {
      break;
    }
    n++;
  }
  return n;
}

/**
 * Whether an empty round (every ProdId tried) is evidence about the call's kind: each call
 * counts once, on its first round at an age ≥ `fromAgeMs`, the age by which its detail should be
 * there (evidenceAgeMs). Younger empty answers say nothing: the detail may simply lag, and a
 * second round is no proof either when the lag is longer than the first retry step.
 */
export function countsAsEvidence(
  p: RoundTimes & { /** Rounds done, this one included (≥ 1). */ attempts: number },
): boolean {
  return earlierRoundsPast({ ...p, rounds: p.attempts - 1 }) === 0;
}

/**
 * The age from which an empty answer counts as evidence: the learned detail lag (the 90th
 * percentile of found ages, lagEstimate.ts) once enough calls were found to know it, else
 * DETAIL_SURELY_THERE_MS. Before the lag is known a kind is judged only on calls ended 10 min
 * ago: slower, but a lag longer than the configured delay no longer passes for a kind without
 * details (seen with a 10 s lag and a 3 s delay: up to a third of findable calls skipped).
 */
export function evidenceAgeMs(learnedLagMs: number | undefined): number {
  return learnedLagMs ?? DETAIL_SURELY_THERE_MS;
}

function found(stats: ProdIdStats | undefined): number {
  let n = 0;
  for (const [id, count] of stats ?? []) {
    if (!id.startsWith(META)) {
      n += count;
    }
  }
  return n;
}

/** Empty calls that were asked `prodId` (alone or in a full round) once they should have been there. */
export function emptyEvidence(stats: ProdIdStats | undefined, prodId: string): number {
  return (stats?.get(EMPTY_FIELD) ?? 0) + (stats?.get(emptyField(prodId)) ?? 0);
}

/** Empty calls under a key's likely ProdId (prodIds.ts LIKELY_PROD_IDS) that make it suspect. */
export const SUSPECT_LIKELY_EMPTY = 5;

/**
 * A kind never found whose calls came back empty, once they should have been there, for every
 * ProdId (each asked at least once), or SUSPECT_LIKELY_EMPTY times for its likely ProdId: its
 * calls ask one ProdId per round (probeProdId) until it is found (then it is an ordinary kind
 * again) or judged unsupported. The second rule matters because the first calls of a new kind
 * run at once, all asking the likely ProdId first; they stop after it instead of sweeping on.
 */
export function isSuspect(
  stats: ProdIdStats | undefined,
  configured: readonly string[],
  likely?: string,
): boolean {
  if (!stats || found(stats) > 0 || configured.length === 0) {
    return false;
  }
  return (
    configured.every((id) => emptyEvidence(stats, id) > 0) ||
    (likely !== undefined &&
      configured.includes(likely) &&
      emptyEvidence(stats, likely) >= SUSPECT_LIKELY_EMPTY)
  );
}

/**
 * The one ProdId a suspect kind's call asks in its round `attempts` (0-based): the call's own
 * starting point (a hash of the CallId) then the next one each round, so every call asks each
 * ProdId once in as many rounds as there are ProdIds, and calls planned at the same moment from
 * the same stats still spread their questions over all ProdIds.
 */
export function probeProdId(
  configured: readonly string[],
  callId: string,
  attempts: number,
): string {
  return configured[(fnv1a(callId) + attempts) % configured.length]!;
}

/**
 * Whether a probe's empty answer is evidence: at an age ≥ `fromAgeMs` (as countsAsEvidence), and
 * within the call's first cycle over the ProdIds from then on, so each (call, ProdId) counts once
 * (probeProdId asks the next ProdId each round).
 */
export function probeCountsAsEvidence(
  p: RoundTimes & { /** Rounds done before this one. */ attempts: number; prodIds: number },
): boolean {
  return (earlierRoundsPast({ ...p, rounds: p.attempts }) ?? Infinity) < p.prodIds;
}

/** Whether a round's empty answers are evidence: a probe's (one ProdId) or a sweep's. */
export function roundCountsAsEvidence(
  probe: boolean,
  p: RoundTimes & { /** Rounds done, this one included. */ attempts: number; prodIds: number },
): boolean {
  return probe ? probeCountsAsEvidence({ ...p, attempts: p.attempts - 1 }) : countsAsEvidence(p);
}

/** Whether calls of `key` should no longer be asked (but for the sample). */
export function isUnsupported(
  key: string,
  all: ReadonlyMap<string, ProdIdStats>,
  configured: readonly string[],
): boolean {
  const own = all.get(key);
  if (!own || configured.length === 0) {
    return false;
  }
  // The kind's judged calls: as many as the least-asked ProdId has (a conservative count).
  const empty = Math.min(...configured.map((id) => emptyEvidence(own, id)));
  if (empty < UNSUPPORTED_MIN_CALLS) {
    return false;
  }
  const ownFound = found(own);
  if (ownFound >= UNSUPPORTED_FOUND_SHARE * (ownFound + empty)) {
    return false;
  }
  let others = 0;
  for (const [k, stats] of all) {
    if (k !== key) {
      others += found(stats);
    }
  }
  return others >= UNSUPPORTED_MIN_CALLS;
}

/**
 * The sample of an unsupported kind: a stable hash of the CallId (FNV-1a, a few lines; no
 * library needed), so every process and every round agree on which calls are asked.
 */
export function inSample(callId: string, every = UNSUPPORTED_SAMPLE_EVERY): boolean {
  return fnv1a(callId) % every === 0;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
