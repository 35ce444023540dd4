/**
 * A kind of call whose details never come stops costing quota: the simulator answers empty
 * Data for every robot-task call (ALICOM_SMART_SAAS^…) whatever the ProdId, while the other
 * products are found. The daemon (real HTTP, signed client) must learn that, skip the robot
 * calls with reason `unsupported` but for a sample it keeps asking, show them in
 * `report reconcile`, log it once, and take the kind back once the sample is found.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { inSample } from "../../src/reconcile/unsupportedKinds.js";
import { findReport, runReport } from "../../src/report/reports.js";
import {
  createCallGenerator,
  receiptsForCall,
  type SimCall,
  type Simulator,
} from "../../src/simulator/index.js";
import type { TestApp } from "../helpers/app.js";
import type { TestDatabase } from "../helpers/db.js";
import { pushReceipts } from "../helpers/push.js";
import { startReconcilingDaemon, type ReconcilingDaemon } from "../helpers/reconcile.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
let daemon: ReconcilingDaemon | undefined;
const gen = createCallGenerator({ seed: 24, startTime: Date.now() - 20 * 60_000 });

async function statuses(ids: readonly string[]) {
  const { rows } = await db.pool.query<{
    id: string;
    status: string;
    reason: string | null;
    attempts: number;
  }>(
    `select call_id as id, reconcile_status as status, reconcile_skip_reason as reason,
            reconcile_attempts as attempts
       from calls where call_id = any($1)`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Whether every one of the calls is reconciled. */
const allReconciled = (calls: readonly SimCall[]) => async () =>
  [...(await statuses(calls.map((c) => c.callId))).values()].filter(
    (r) => r.status === "reconciled",
  ).length === calls.length;

beforeAll(async () => {
  daemon = await startReconcilingDaemon({
    simulator: { detailLagMs: 0, detailQps: 100 },
    env: { VMS_RECONCILE_QPS: "100" },
  });
  ({ db, sim, t } = daemon);
  sim.control.setKindsWithoutDetail(["robot"]);
});
afterAll(() => daemon?.stop());

const MESSAGE = "QueryCallDetailByCallId never has details for this kind of call";

describe("a kind of call whose details never come", () => {
  it("is skipped as unsupported but for a sample, reported, logged once, and comes back", async () => {
    const others = gen.generate(90, ["voice", "verification", "ivr"]);
    const robots = gen.generate(60, ["robot"]);
    const all = [...others, ...robots];
    sim.control.loadCalls(all);
    await pushReceipts(t.url, all.flatMap(receiptsForCall));

    const sample = robots.filter((c) => inSample(c.callId)).map((c) => c.callId);
    const rest = robots.filter((c) => !inSample(c.callId)).map((c) => c.callId);
    expect(rest.length).toBeGreaterThan(40);
    await waitFor(
      async () => {
        const s = await statuses(all.map((c) => c.callId));
        return (
          others.every((c) => s.get(c.callId)?.status === "reconciled") &&
          rest.every((id) => s.get(id)?.status === "skipped")
        );
      },
      { timeoutMs: 60_000, what: "others reconciled, robot calls skipped" },
    );
    const s = await statuses(robots.map((c) => c.callId));
    for (const id of rest) {
      expect(s.get(id)).toMatchObject({ status: "skipped", reason: "unsupported" });
      // Asked for a round or two while the kind was being learnt, never until give-up.
      expect(s.get(id)!.attempts).toBeLessThanOrEqual(3);
    }
    // The sample is still asked: pending (retrying), never skipped.
    for (const id of sample) {
      expect(s.get(id)?.status).toBe("pending");
    }

    const report = await runReport(db.pool, findReport("reconcile"), {
      from: null,
      to: null,
      arg: null,
    });
    expect(report.rows).toEqual(
      expect.arrayContaining([{ kind: "skip_reason", name: "unsupported", calls: rest.length }]),
    );
    expect(t.logs().split(MESSAGE).length - 1).toBe(1);
    // The skips are counted under the kind's key: robot tasks are `saas`.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain(
      `voice_receipts_reconcile_unsupported_skipped_total{kind="saas"} ${rest.length}`,
    );

    // Alibaba starts answering for robot calls: new sampled calls are found, then the kind
    // is asked again in full.
    sim.control.setKindsWithoutDetail([]);
    const later = gen.generate(400, ["robot"]);
    const laterSample = later.filter((c) => inSample(c.callId)).slice(0, 8);
    const laterRest = later.filter((c) => !inSample(c.callId)).slice(0, 20);
    sim.control.loadCalls([...laterSample, ...laterRest]);
    await pushReceipts(t.url, laterSample.flatMap(receiptsForCall));
    await waitFor(allReconciled(laterSample), { timeoutMs: 30_000, what: "the sample found" });
    await pushReceipts(t.url, laterRest.flatMap(receiptsForCall));
    await waitFor(allReconciled(laterRest), {
      timeoutMs: 30_000,
      what: "robot calls reconciled again",
    });
  });
});
