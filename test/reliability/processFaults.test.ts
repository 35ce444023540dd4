/**
 * The daemon's own processes failing under load: F1 a worker process killed with SIGKILL
 * repeatedly (a new one started each time), F5 SIGTERM to the ingester and then to a worker in
 * the middle of the load (each restarted, the ingester on the same port, as behind a load
 * balancer). Ingest and workers run as separate child processes.
 */
import { describe, expect, it } from "vitest";

import { killHard, type DaemonProcess } from "../helpers/daemons.js";
import { pick, RUN_TIMEOUT_MS } from "./profile.js";
import { runScenario, type Cluster } from "./scenario.js";

/** How long to wait between faults (not synchronisation: nothing waits for a result here). */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stop the first live process of `role` with `signal`, start its replacement; returns how it ended. */
async function replace(c: Cluster, role: DaemonProcess["role"], signal: "SIGKILL" | "SIGTERM") {
  const i = c.processes.findIndex((p) => p.role === role && p.child.exitCode === null);
  const victim = c.processes[i];
  if (!victim) {
    throw new Error(`no live ${role} process`);
  }
  const sent = Date.now();
  if (signal === "SIGKILL") {
    await killHard(victim);
  } else {
    victim.child.kill("SIGTERM");
  }
  // A process that does not stop within 15 s is killed (and the test sees a code other than 0).
  const timer = setTimeout(() => victim.child.kill("SIGKILL"), 15_000);
  const ended = await victim.exited;
  clearTimeout(timer);
  const stopSeconds = (Date.now() - sent) / 1000;
  c.processes[i] = await c.spawn(role);
  return { ...ended, stopSeconds, output: victim.out() };
}

describe("faults of the daemon's processes", () => {
  it(
    "F1: a worker killed with SIGKILL again and again: nothing lost, nothing applied twice, killed jobs finished by the others",
    async () => {
      const kills = pick(2, 5);
      const run = await runScenario({
        name: "F1-worker-sigkill",
        calls: pick(300, 3000),
        seconds: pick(8, 90),
        workerProcesses: 2,
        async nemesis(c) {
          const everyMs = pick(2500, 15_000);
          for (let k = 0; k < kills; k++) {
            await pause(everyMs);
            await replace(c, "worker", "SIGKILL");
          }
          c.notes.workerKills = kills;
        },
      });
      const { notReconciled = 0, ...rest } = run.problems;
      expect(rest).toEqual({});
      expect(run.failedJobs).toBe(0);
      // A kill between the reconcile scheduler's mark and its enqueue leaves those calls to the
      // daemon's 10-minute recovery scan: late, not lost. Anything else still pending is a fault.
      expect(notReconciled).toBe(run.pending.awaitingRecovery);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "F5: SIGTERM to the ingester and to a worker mid-load: each exits 0 after finishing its work, and nothing is lost",
    async () => {
      const stops: Array<{ role: string; code: number | null; stopSeconds: number }> = [];
      const run = await runScenario({
        name: "F5-sigterm-mid-load",
        calls: pick(300, 3000),
        seconds: pick(8, 60),
        workerProcesses: 1,
        async nemesis(c) {
          await pause(pick(2000, 15_000));
          const ingest = await replace(c, "ingest", "SIGTERM");
          stops.push({ role: "ingest", code: ingest.code, stopSeconds: ingest.stopSeconds });
          await pause(pick(1000, 15_000));
          const worker = await replace(c, "worker", "SIGTERM");
          stops.push({ role: "worker", code: worker.code, stopSeconds: worker.stopSeconds });
          c.notes.stops = stops;
        },
      });
      expect(stops.map((s) => [s.role, s.code])).toEqual([
        ["ingest", 0],
        ["worker", 0],
      ]);
      expect(run.problems).toEqual({});
      expect(run.failedJobs).toBe(0);
    },
    RUN_TIMEOUT_MS,
  );
});
