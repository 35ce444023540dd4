/**
 * Faults on the Alibaba side, under load through both delivery modes, daemon in-process:
 * F4 detail API failing and throttling, F6 poison receipts, F7 every receipt delivered three
 * times, F8 MNS visibility timeout shorter than processing. Each run must end with nothing
 * lost, duplicated or unexpected, every outbound call reconciled, and the quota kept.
 */
import { describe, expect, it } from "vitest";

import { waitFor } from "../helpers/waitFor.js";
import { pick, RUN_TIMEOUT_MS } from "./profile.js";
import { runScenario } from "./scenario.js";

/** A low quota, so that reconciling outlasts both fault phases even in the short form. */
const QPS = pick(20, 50);

/** How long a fault lasts (not synchronisation: nothing waits for a result here). */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("faults on the Alibaba side", () => {
  it(
    "F4: detail API answering 5xx, then throttling below our quota: every call still reconciled, quota never exceeded",
    async () => {
      const run = await runScenario({
        name: "F4-detail-api-5xx-throttling",
        calls: pick(200, 1500),
        seconds: pick(4, 60),
        reconcileQps: QPS,
        async nemesis(c) {
          const phaseMs = pick(1000, 30_000);
          const detail = () => c.sim.control.counters().detail;
          // Phase 1: one request in five answers 503 (full form: plus 15 s of 5 s latency), for
          // at least phaseMs and until some requests have failed.
          c.sim.control.setFailureRate(
            "detail",
            { kind: "error", status: 503, code: "ServiceUnavailable" },
            0.2,
          );
          if (pick(false, true)) {
            await pause(10_000);
            c.sim.control.setLatency("detail", 5000);
            await pause(15_000);
            c.sim.control.setLatency("detail", 0);
            await pause(phaseMs - 25_000);
          } else {
            await pause(phaseMs);
          }
          // The circuit opens at a 20 % failure share, so requests come in bursts between its
          // pauses; on a busy machine 5 failures can take longer than the phase: wait for them.
          await waitFor(() => detail().faults >= 5, {
            timeoutMs: pick(30_000, 120_000),
            what: "5 failed requests",
          });
          c.sim.control.clearFaults();
          // Phase 2: the account's limit falls below ours, so the API throttles.
          c.sim.control.setDetailQps(Math.floor(QPS / 3));
          await pause(phaseMs);
          await waitFor(() => detail().throttled >= 5, {
            timeoutMs: pick(30_000, 120_000),
            what: "5 throttled requests",
          });
          c.sim.control.setDetailQps(QPS);
        },
      });
      expect(run.problems).toEqual({});
      expect(run.failedJobs).toBe(0);
      const d = run.figures.detail as { faults: number; throttled: number };
      expect(d.faults).toBeGreaterThan(0);
      expect(d.throttled).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "F6: 1% poison receipts are quarantined, none lost, and the valid ones around them are all stored",
    async () => {
      const run = await runScenario({
        name: "F6-poison-1pct",
        calls: pick(250, 2000),
        seconds: pick(4, 45),
        poisonRate: 0.01,
        async nemesis(c) {
          await c.loadDone;
          // A receipt type nobody subscribes to is refused, never acknowledged (Alibaba retries).
          const res = await fetch(`${c.url}/push/VoiceMysteryReport`, {
            method: "POST",
            body: '[{"call_id":"1^2"}]',
          });
          c.notes.unknownTypeStatus = res.status;
        },
      });
      expect(run.problems).toEqual({});
      expect(run.report.poison).toBeGreaterThanOrEqual(5);
      expect(run.report.quarantined).toBeGreaterThanOrEqual(run.report.poison);
      expect(run.figures.unknownTypeStatus).toBe(404);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "F7: every receipt delivered three times by push and by MNS: rows are exactly the distinct receipts",
    async () => {
      const run = await runScenario({
        name: "F7-triple-delivery",
        calls: pick(150, 1500),
        seconds: pick(3, 45),
        copies: 3,
      });
      expect(run.problems).toEqual({});
      expect(run.report.rows).toBe(run.report.distinctExpected);
      expect(run.report.delivered).toBeGreaterThanOrEqual(3 * run.report.distinctExpected);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "F8: MNS visibility timeout shorter than processing: messages come back, are counted once, and none is lost",
    async () => {
      const run = await runScenario({
        name: "F8-visibility-expiry",
        calls: pick(150, 1500),
        seconds: pick(4, 45),
        visibilityTimeoutSeconds: 1,
        async nemesis(c) {
          // Every MNS request takes 1.5 s: the delete arrives after the 1 s visibility timeout
          // has expired, so every message received meanwhile comes back.
          c.sim.control.setLatency("mns", 1500);
          await c.loadDone;
          c.sim.control.setLatency("mns", 0);
          const metrics = await (await fetch(`${c.url}/metrics`)).text();
          c.notes.redeliveriesMetric = [
            ...metrics.matchAll(/^voice_receipts_mns_redeliveries_total\{[^}]*\} (\d+)/gm),
          ].reduce((s, m) => s + Number(m[1]), 0);
        },
      });
      expect(run.problems).toEqual({});
      expect((run.figures.mns as { redeliveries: number }).redeliveries).toBeGreaterThan(0);
      expect(run.figures.redeliveriesMetric).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );
});
