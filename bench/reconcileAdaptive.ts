/**
 * bench/reconcileAdaptive.ts (`bench/reconcile.ts --real-qps R`) — the account's real quota R is
 * below VMS_RECONCILE_QPS = Q: two worker processes configured with Q against a simulator that
 * throttles at R, then R rises back to Q at run time. Measures, from the simulator's counters
 * sampled every 250 ms:
 *   - time from the first throttle until the answered rate (over the last 3 s) is ≥ 0.8 R with
 *     ≤ 5 % of the requests throttled, then from there to the rise: answered requests/s ÷ R, throttled share of all requests,
 *     requests per reconciled call (target ≥ 0.8×, ≤ 5 %, within 30 s);
 *   - time from the rise until the rate reaches 0.9 Q, then the same figures against Q
 *     (target within 60 s);
 *   - every call reconciled in the end, none lost.
 */
import { printFigures, saveResults, type Figure } from "./lib.js";
import { LATENCY_MS, startRig } from "./reconcileRig.js";

const WORKERS = 2;
/** The answered rate is read over this span (a rate over a sliding span, not one instant). */
const SPAN_MS = 3000;

export interface AdaptiveBenchOptions {
  /** VMS_RECONCILE_QPS; default 100. */
  qps?: number;
  /** The real limit before the rise; default qps / 2. */
  realQps?: number;
  /** Seconds at the real limit after the first throttle, before it rises; default 40. */
  seconds?: number | undefined;
}

interface Sample {
  at: number;
  answered: number;
  throttled: number;
  reconciled: number;
  /** The shared adaptive rate, requests per second. */
  rate: number;
}

/** Figures of one phase, from sample `from` to sample `to`. */
function phase(samples: Sample[], from: number, to: number) {
  const a = samples[from]!;
  const b = samples[to]!;
  const seconds = (b.at - a.at) / 1000;
  const answered = b.answered - a.answered;
  const throttled = b.throttled - a.throttled;
  const reconciled = b.reconciled - a.reconciled;
  const rates = samples.slice(from, to + 1).map((s) => s.rate);
  return {
    seconds,
    /** What the limiter allowed (its mean rate): the product's decision, whatever the CPU did. */
    limiterRate: rates.reduce((x, y) => x + y, 0) / Math.max(1, rates.length),
    answeredPerSecond: seconds > 0 ? answered / seconds : 0,
    throttledShare: answered + throttled > 0 ? throttled / (answered + throttled) : 0,
    requestsPerReconciled: reconciled > 0 ? (answered + throttled) / reconciled : NaN,
    answeredPerReconciled: reconciled > 0 ? answered / reconciled : NaN,
  };
}

/** The sample SPAN_MS before sample i (or the first). */
function spanStart(samples: Sample[], i: number): Sample {
  const s = samples[i]!;
  let j = i;
  while (j > 0 && s.at - samples[j - 1]!.at <= SPAN_MS) {
    j--;
  }
  return samples[j]!;
}

/** Answered requests/s over the SPAN_MS before sample i. */
function rateAt(samples: Sample[], i: number): number {
  const s = samples[i]!;
  const a = spanStart(samples, i);
  return s.at > a.at ? ((s.answered - a.answered) * 1000) / (s.at - a.at) : 0;
}

export async function runAdaptive(o: AdaptiveBenchOptions = {}) {
  const Q = o.qps ?? 100;
  const R = o.realQps ?? Q / 2;
  const LOW_SECONDS = o.seconds ?? 40;
  // Enough backlog for the low phase, the climb and ~30 s at Q: the queue never runs dry.
  const count = Math.round(R * (LOW_SECONDS + 10) + Q * 45);
  const rig = await startRig({ qps: Q, realQps: R, count, workers: WORKERS });
  const samples: Sample[] = [];
  let firstThrottle = -1;
  let rise = -1;
  const started = Date.now();
  try {
    for (;;) {
      const c = rig.sim.control.counters().detail;
      const reconciled = await rig.reconciled();
      const rate = (await rig.sharedRate()) / 1.03;
      samples.push({
        rate,
        at: performance.now(),
        answered: c.calls,
        throttled: c.throttled,
        reconciled,
      });
      const i = samples.length - 1;
      if (firstThrottle < 0 && c.throttled > 0) {
        firstThrottle = i;
      }
      if (
        rise < 0 &&
        firstThrottle >= 0 &&
        samples[i]!.at - samples[firstThrottle]!.at >= LOW_SECONDS * 1000
      ) {
        rig.sim.control.setDetailQps(Q);
        rise = i;
      }
      const overdue =
        (firstThrottle < 0 && Date.now() - started > 90_000) ||
        (rise >= 0 && samples[i]!.at - samples[rise]!.at > 120_000);
      if (reconciled >= rig.total || overdue) {
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await rig.stopWorkers();
  }

  const last = samples.length - 1;
  const after = (from: number, ok: (i: number) => boolean) => {
    for (let i = Math.max(0, from); i <= last; i++) {
      if (ok(i)) {
        return i;
      }
    }
    return -1;
  };
  const end = rise >= 0 ? rise : last;
  // Converged: the first sample from which on, until the rise, the answered rate is ≥ 0.8 R and
  // ≤ 5 % of the requests are throttled (answered requests alone reach R at once: the simulator
  // answers R and throttles the rest, so the share matters as much).
  const converged = after(firstThrottle, (i) => {
    const p = phase(samples, i, end);
    return i < end && p.answeredPerSecond >= 0.8 * R && p.throttledShare <= 0.05;
  });
  const low = converged >= 0 && converged < end ? phase(samples, converged, end) : undefined;
  const recovered = rise >= 0 ? after(rise, (i) => rateAt(samples, i) >= 0.9 * Q) : -1;
  // After recovery, up to the last sample with a second's worth of backlog still ahead.
  let high;
  if (recovered >= 0) {
    let stop = last;
    while (stop > recovered && rig.total - samples[stop]!.reconciled < Q) {
      stop--;
    }
    high = stop > recovered ? phase(samples, recovered, stop) : undefined;
  }
  const secondsBetween = (a: number, b: number) =>
    a >= 0 && b >= 0 ? (samples[b]!.at - samples[a]!.at) / 1000 : NaN;
  const convergeSeconds = secondsBetween(firstThrottle, converged);
  const recoverSeconds = secondsBetween(rise, recovered);
  const reconciled = samples[last]!.reconciled;
  const c = rig.sim.control.counters().detail;

  const figures: Figure[] = [
    {
      name: "time to converge after the first throttle",
      unit: "s",
      value: convergeSeconds,
      anchorName: "target",
      anchor: 30,
      target: "≤ 1.0×",
    },
    {
      name: "answered requests after convergence",
      unit: "req/s",
      value: low?.answeredPerSecond ?? NaN,
      anchorName: "real limit",
      anchor: R,
      target: "≥ 0.8×",
    },
    {
      name: "adaptive rate (the limiter's, mean) after convergence",
      unit: "req/s",
      value: low?.limiterRate ?? NaN,
      anchorName: "real limit",
      anchor: R,
    },
    {
      name: "throttled answers after convergence",
      unit: "share",
      value: low?.throttledShare ?? NaN,
      anchorName: "all requests",
      anchor: 1,
      target: "≤ 0.05×",
    },
    {
      name: "requests per reconciled call (low limit)",
      unit: "req",
      value: low?.requestsPerReconciled ?? NaN,
      anchorName: "one per call",
      anchor: 1,
    },
    {
      name: "time to recover after the limit rises",
      unit: "s",
      value: recoverSeconds,
      anchorName: "target",
      anchor: 60,
      target: "≤ 1.0×",
    },
    {
      name: "answered requests after recovery",
      unit: "req/s",
      value: high?.answeredPerSecond ?? NaN,
      anchorName: "VMS_RECONCILE_QPS",
      anchor: Q,
      target: "≥ 0.9×",
    },
    {
      name: "adaptive rate (the limiter's, mean) after recovery",
      unit: "req/s",
      value: high?.limiterRate ?? NaN,
      anchorName: "VMS_RECONCILE_QPS",
      anchor: Q,
    },
    {
      name: "throttled answers after recovery",
      unit: "share",
      value: high?.throttledShare ?? NaN,
      anchorName: "all requests",
      anchor: 1,
    },
    {
      name: "requests per reconciled call (limit back at Q)",
      unit: "req",
      value: high?.requestsPerReconciled ?? NaN,
      anchorName: "one per call",
      anchor: 1,
    },
  ];
  printFigures(
    `reconcile, real limit below the configuration: ${WORKERS} worker processes, ${rig.total} calls, API latency ${LATENCY_MS} ms, VMS_RECONCILE_QPS ${Q}, real limit ${R}/s for ${LOW_SECONDS} s after the first throttle, then ${Q}/s`,
    figures,
  );
  console.log(
    `reconciled ${reconciled}/${rig.total}; answered ${c.calls}, throttled ${c.throttled} (${((100 * c.throttled) / Math.max(1, c.calls + c.throttled)).toFixed(2)} %), ${c.emptyData} empty`,
  );
  const summary = {
    qps: Q,
    realQps: R,
    lowSeconds: LOW_SECONDS,
    calls: rig.total,
    reconciled,
    convergeSeconds,
    low,
    recoverSeconds,
    high,
    simulator: c,
    timeline: samples
      .filter((_, i) => i % 4 === 0)
      .map((s, k) => ({
        t: Math.round((s.at - samples[0]!.at) / 100) / 10,
        rate: Math.round(rateAt(samples, k * 4)),
        limiter: Math.round(s.rate),
        throttled: s.throttled,
      })),
  };
  await saveResults("reconcile-adaptive", summary);
  await rig.close();
  if (reconciled < rig.total) {
    process.exitCode = 1;
  }
  return summary;
}
