/**
 * The scheduler loop (worker role): finds calls that need a reconcile and gives each exactly one
 * delayed job. Decoupled from the receipt path on purpose: persistence only writes `calls`, this
 * loop reads what it wrote. Safe with any number of processes: every scan is one UPDATE whose
 * row selection uses FOR UPDATE SKIP LOCKED, and it marks the rows (reconcile_due_at) in the
 * same statement, so two schedulers never pick the same call.
 *
 * The mark is committed before the job is added: a crash in between leaves a marked call
 * without a job, which the recovery scan re-enqueues once it is overdue; the reverse order could
 * run a job twice. An enqueue that fails is undone at once (the call is unmarked).
 */
import type { Queue } from "bullmq";
import type pg from "pg";

import { sleep } from "../infra/sleep.js";
import type { ReconcilePolicy } from "../config/index.js";
import type { Logger } from "../logger.js";
import { addJobs, reconcileJobId } from "../pipeline/jobs.js";
import type { ReconcileMetrics } from "./metrics.js";
import { BASELINE_EVERY } from "./lagEstimate.js";
import { policySelects } from "./selection.js";
import {
  markPolicySkipped,
  markSkipped,
  recoverOverdue,
  scheduleChanged,
  scheduleNew,
  unschedule,
  type Scheduled,
} from "../store/calls/reconcileSchedule.js";

export interface SchedulerOptions {
  pool: pg.Pool;
  /** Absent when reconcile is off: the loop then only marks calls `skipped`. */
  queue: Queue | undefined;
  /** VMS_RECONCILE_DELAY_SECONDS in ms: new calls' first query, and the baseline (lagEstimate.ts). */
  delayMs: number;
  /**
   * The learned first-query delay (detailLag.ts), read at every scan; absent, `delayMs`. About
   * one new call in BASELINE_EVERY is still first asked at `delayMs` so the lag keeps being
   * measured (and the learned delay can come back down).
   */
  firstQueryDelayMs?: () => number;
  /**
   * VMS_RECONCILE_POLICY. A sample depends on the call_id alone, so the calls it leaves out are
   * skipped here, without a job; `incomplete` depends on the VoiceReport, which may still come,
   * so it is left to the job when the call is due (reconcileCall.ts).
   */
  policy?: ReconcilePolicy;
  intervalMs: number;
  /** Re-enqueue calls whose job should have run this long ago. */
  recoverAfterMs: number;
  metrics: ReconcileMetrics;
  logger: Logger;
}

/** Rows per statement; a full batch means "there is more", so the loop goes on at once. */
export const SCHEDULE_BATCH = 500;

export function createScheduler(o: SchedulerOptions) {
  const { pool, queue, logger, metrics } = o;
  let stopped = true;
  let loop: Promise<void> | undefined;
  /** Aborted by stop() to cut the pause between scans short. */
  let wake: AbortController | undefined;
  let lastRecovery = Date.now();

  async function enqueue(rows: Scheduled[], reason: "new" | "changed" | "recovered") {
    if (!queue || rows.length === 0) {
      return;
    }
    try {
      const invalid = await addJobs(
        queue,
        "reconcile",
        rows.map((r) => ({
          data: { callId: r.callId },
          jobId: reconcileJobId(r.callId),
          delayMs: r.delayMs,
        })),
      );
      // A call_id the catalogue refuses fails only itself: it stays scheduled without a job, and
      // the recovery scan offers it again (and logs it again) once it is overdue.
      for (const job of invalid) {
        logger.warn(job, "reconcile job refused by the job catalogue");
      }
      metrics.scheduled.inc({ reason }, rows.length - invalid.length);
    } catch (err) {
      await unschedule(
        pool,
        rows.map((r) => r.callId),
      ).catch(() => {});
      throw err;
    }
  }

  /**
   * The rows the sample policy keeps; the others are marked skipped (a crash in between leaves
   * them scheduled without a job, and the recovery scan's job then skips them).
   */
  async function withoutUnsampled(rows: Scheduled[]): Promise<Scheduled[]> {
    const policy = o.policy;
    if (policy?.kind !== "sample" || rows.length === 0) {
      return rows;
    }
    const keep = (r: Scheduled) =>
      policySelects(policy, { callId: r.callId, hasReport: false, statusCode: null });
    const left = rows.filter((r) => !keep(r)).map((r) => r.callId);
    if (left.length > 0) {
      const n = await markPolicySkipped(pool, left);
      metrics.results.inc({ result: "policy_skipped" }, n);
    }
    return rows.filter(keep);
  }

  /** One pass; returns how many calls it touched. */
  async function tick(): Promise<number> {
    let touched = 0;
    if (!queue) {
      for (let n = SCHEDULE_BATCH; n === SCHEDULE_BATCH && !stopped;) {
        n = await markSkipped(pool, { onlyInbound: false, limit: SCHEDULE_BATCH });
        touched += n;
      }
      if (touched > 0) {
        metrics.results.inc({ result: "skipped" }, touched);
      }
      return touched;
    }
    // Inbound calls (biz_id) have no CallId of the call APIs and no documented ProdId.
    const inbound = await markSkipped(pool, { onlyInbound: true, limit: SCHEDULE_BATCH });
    if (inbound > 0) {
      metrics.results.inc({ result: "skipped" }, inbound);
    }
    touched += inbound;
    for (let n = SCHEDULE_BATCH; n === SCHEDULE_BATCH && !stopped;) {
      const rows = await scheduleNew(
        pool,
        {
          delayMs: o.firstQueryDelayMs?.() ?? o.delayMs,
          baselineMs: o.delayMs,
          baselineShare: 1 / BASELINE_EVERY,
        },
        SCHEDULE_BATCH,
      );
      await enqueue(await withoutUnsampled(rows), "new");
      n = rows.length;
      touched += n;
    }
    const changed = await scheduleChanged(pool, SCHEDULE_BATCH);
    await enqueue(changed, "changed");
    touched += changed.length;
    if (Date.now() - lastRecovery >= Math.min(30_000, o.recoverAfterMs)) {
      lastRecovery = Date.now();
      const lost = await recoverOverdue(pool, o.recoverAfterMs, SCHEDULE_BATCH * 2);
      await enqueue(lost, "recovered");
      if (lost.length > 0) {
        logger.warn({ calls: lost.length }, "re-enqueued overdue reconcile jobs");
      }
      touched += lost.length;
    }
    return touched;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const n = await tick();
        if (n > 0) {
          logger.debug({ calls: n }, "reconcile scheduler pass");
        }
      } catch (err) {
        logger.warn({ err }, "reconcile scheduling failed; will retry");
      }
      if (stopped) {
        break;
      }
      wake = new AbortController();
      await sleep(o.intervalMs, wake.signal);
      wake = undefined;
    }
  }

  return {
    tick,
    start() {
      if (!stopped) {
        return;
      }
      stopped = false;
      loop = run();
    },
    async stop() {
      stopped = true;
      wake?.abort();
      await loop;
    },
  };
}
