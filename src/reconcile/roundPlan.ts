/**
 * Which ProdIds one round of one call asks, from what every process learnt so far (prodIds.ts,
 * unsupportedKinds.ts): the pure decision reconcileCall.ts acts on.
 */
import { LIKELY_PROD_IDS, planRound, type ProdIdStats } from "./prodIds.js";
import { emptyField, inSample, isSuspect, isUnsupported, probeProdId } from "./unsupportedKinds.js";

export type RoundPlan =
  /** An unsupported kind, the call not in the sample: skip it without asking. */
  | { mode: "skip" }
  | {
      /**
       * `sweep`: every ProdId, likeliest first (an untrusted kind, every FULL_SWEEP_EVERY-th
       * round, the final round); `trusted`: the key's one ProdId; `probe`: one ProdId of a
       * suspect kind; `sample`: one ProdId of a sampled call of an unsupported kind.
       */
      mode: "sweep" | "trusted" | "probe" | "sample";
      prodIds: string[];
    };

export function planCallRound(p: {
  configured: readonly string[];
  key: string;
  all: ReadonlyMap<string, ProdIdStats>;
  callId: string;
  /** Rounds done before this one. */
  attempts: number;
  /** The last round before giving up: every ProdId, whatever was learnt. */
  final: boolean;
}): RoundPlan {
  const stats = p.all.get(p.key);
  const unsupported = isUnsupported(p.key, p.all, p.configured);
  if (unsupported && !inSample(p.callId)) {
    return { mode: "skip" };
  }
  const plan = planRound(p.configured, stats, { attempts: p.attempts, final: p.final }, p.key);
  if (p.final || plan.length === 1) {
    return { mode: plan.length === 1 ? "trusted" : "sweep", prodIds: plan };
  }
  if (unsupported) {
    // A sampled call asks one ProdId per round, the likeliest first then in turn (all of them
    // on its last round): a change is still noticed within a few rounds, at a fraction of the
    // cost. These rounds add no evidence.
    return { mode: "sample", prodIds: [plan[p.attempts % plan.length]!] };
  }
  if (isSuspect(stats, p.configured, LIKELY_PROD_IDS[p.key])) {
    // Never found, and one call already came back empty for every ProdId: one ProdId per call
    // until the kind is found or judged, each empty answer evidence for that ProdId.
    return { mode: "probe", prodIds: [probeProdId(p.configured, p.callId, p.attempts)] };
  }
  return { mode: "sweep", prodIds: plan };
}

/**
 * A sweep of a kind never found stops before its next ProdId once the kind turned suspect
 * meanwhile (other calls came back empty): the concurrent first calls of a new kind then cost a
 * ProdId or two each instead of all of them. The call is asked again on its next round like any
 * empty one.
 */
export function sweepShouldStop(p: {
  mode: RoundPlan["mode"];
  final: boolean;
  stats: ProdIdStats | undefined;
  configured: readonly string[];
  key: string;
}): boolean {
  return p.mode === "sweep" && !p.final && isSuspect(p.stats, p.configured, LIKELY_PROD_IDS[p.key]);
}

/**
 * The evidence field an empty answer adds when its round counts (countsAsEvidence), noted at
 * once so that concurrent calls of the kind see it: sweeps and probes say "empty under this
 * ProdId"; sampled and trusted rounds add nothing.
 */
export function evidenceField(mode: RoundPlan["mode"], prodId: string): string | undefined {
  return mode === "sweep" || mode === "probe" ? emptyField(prodId) : undefined;
}
