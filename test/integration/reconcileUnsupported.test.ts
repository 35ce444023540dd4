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
  groupByType,
  receiptsForCall,
  startSimulator,
  type Receipt,
  type Simulator,
} from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
const prefix = randomPrefix();
const gen = createCallGenerator({ seed: 24, startTime: Date.now() - 20 * 60_000 });

async function push(url: string, receipts: readonly Receipt[]): Promise<void> {
  for (const [type, bodies] of groupByType(receipts)) {
    for (let i = 0; i < bodies.length; i += 100) {
      const res = await fetch(`${url}/push/${type}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(bodies.slice(i, i + 100)),
      });
      expect(res.status).toBe(200);
    }
  }
}

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

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ detailLagMs: 0, detailQps: 100 });
  sim.control.setKindsWithoutDetail(["robot"]);
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: {
      ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
      VMS_API_ENDPOINT: sim.url,
      VMS_RECONCILE: "on",
      VMS_RECONCILE_DELAY_SECONDS: "0",
      VMS_RECONCILE_QPS: "100",
      VMS_RECONCILE_GIVE_UP_HOURS: "1",
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await sim?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

const MESSAGE = "QueryCallDetailByCallId never has details for this kind of call";

describe("a kind of call whose details never come", () => {
  it("is skipped as unsupported but for a sample, reported, logged once, and comes back", async () => {
    const others = gen.generate(90, ["voice", "verification", "ivr"]);
    const robots = gen.generate(60, ["robot"]);
    const all = [...others, ...robots];
    sim.control.loadCalls(all);
    await push(t.url, all.flatMap(receiptsForCall));

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
    await push(t.url, laterSample.flatMap(receiptsForCall));
    await waitFor(
      async () =>
        [...(await statuses(laterSample.map((c) => c.callId))).values()].filter(
          (r) => r.status === "reconciled",
        ).length === laterSample.length,
      { timeoutMs: 30_000, what: "the sample found" },
    );
    await push(t.url, laterRest.flatMap(receiptsForCall));
    await waitFor(
      async () =>
        [...(await statuses(laterRest.map((c) => c.callId))).values()].filter(
          (r) => r.status === "reconciled",
        ).length === laterRest.length,
      { timeoutMs: 30_000, what: "robot calls reconciled again" },
    );
  });
});
