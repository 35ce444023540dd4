/**
 * Kinds of call whose details never come. One version of Alibaba's docs says
 * QueryCallDetailByCallId does not cover voice-robot calls; whether that holds for an account is
 * learnt, not assumed. A kind (the ProdId learning key of prodIds.ts: robot tasks, an out_id
 * prefix) is `unsupported` when many of its calls came back empty for every ProdId once their
 * detail should have been there (countsAsEvidence) while almost none was ever found, and
 * other kinds are found meanwhile (so it is not the API or the account that is failing).
 * Calls of such a kind are then `skipped` (reason `unsupported`) except a sample that is still
 * asked: once the sample's calls are found the kind's share of found calls rises and it comes back.
 */
import type { ProdIdStats } from "./prodIds.js";

/** Stats fields that are not ProdIds start with this (a ProdId is digits). */
export const META = "#";
/** Calls of the key that came back empty for every ProdId when they should have been there. */
export const EMPTY_FIELD = `${META}empty`;
/** Set once the kind was logged as unsupported (every process logs it at most once in all). */
export const ANNOUNCED_FIELD = `${META}announced`;

/** A kind needs this many empty calls before it can be judged; other kinds as many found. */
export const UNSUPPORTED_MIN_CALLS = 20;
/** Found share under which a kind is unsupported. */
export const UNSUPPORTED_FOUND_SHARE = 0.05;
/** One call in this many of an unsupported kind is still asked. */
export const UNSUPPORTED_SAMPLE_EVERY = 20;
/** A call ended this long ago has its detail if it ever will (the docs' lag is 3–5 min). */
export const DETAIL_SURELY_THERE_MS = 10 * 60_000;

/**
 * Whether an empty round (every ProdId tried) is evidence about the call's kind: each call
 * counts once, on its first round if it ended long enough ago, else on its second (the first
 * may have come before the detail lag). `retryBaseMs` is about the time between the two.
 */
export function countsAsEvidence(p: {
  attempts: number;
  endedAtMs: number;
  nowMs: number;
  retryBaseMs: number;
}): boolean {
  const oldAt = (t: number) => t - p.endedAtMs >= DETAIL_SURELY_THERE_MS;
  if (p.attempts === 1) {
    return oldAt(p.nowMs);
  }
  return p.attempts === 2 && !oldAt(p.nowMs - p.retryBaseMs);
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

/** Whether calls of `key` should no longer be asked (but for the sample). */
export function isUnsupported(key: string, all: ReadonlyMap<string, ProdIdStats>): boolean {
  const own = all.get(key);
  const empty = own?.get(EMPTY_FIELD) ?? 0;
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
  let h = 0x811c9dc5;
  for (let i = 0; i < callId.length; i++) {
    h ^= callId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % every === 0;
}
