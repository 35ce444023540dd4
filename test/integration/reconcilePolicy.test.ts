/**
 * VMS_RECONCILE_POLICY end to end: the same corpus (calls with a successful VoiceReport, with a
 * failed one, without one, and inbound calls) pushed to a daemon under each policy, which must
 * query QueryCallDetailByCallId for exactly the calls the policy selects. Which calls were
 * queried is read on the wire: the daemon talks to the simulator through a small recording
 * proxy, and the simulator's own counter must agree with the proxy's count.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ANSWERED_STATUS_CODES } from "../../src/domain/statusCodes.js";
import { sampleFraction } from "../../src/reconcile/selection.js";
import { markSkipped } from "../../src/store/calls/reconcileSchedule.js";
import { markCallsSkipped } from "../../src/replay/noReconcile.js";
import { findReport, runReport } from "../../src/report/reports.js";
import {
  createCallGenerator,
  receiptsForCall,
  startSimulator,
  voiceReport,
  type Receipt,
  type SimCall,
  type Simulator,
} from "../../src/simulator/index.js";
import { startTestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { pushReceipts } from "../helpers/push.js";
import { callsSettled, reconcileEnv } from "../helpers/reconcile.js";
import { waitFor } from "../helpers/waitFor.js";

let sim: Simulator;
let proxy: Server;
let proxyUrl: string;
/** CallId of every QueryCallDetailByCallId request that went through the proxy. */
const queried: string[] = [];

const gen = createCallGenerator({ seed: 13, startTime: Date.now() - 30 * 60_000, answerRate: 0.5 });
const outbound = gen.generate(30, ["voice", "verification", "ivr", "robot"]);
const inbound = gen.generate(2, ["inbound"]);
/** These calls' VoiceReport is never delivered. */
const withoutReport = new Set(outbound.slice(0, 8).map((c) => c.callId));
const succeeded = (c: SimCall) =>
  !withoutReport.has(c.callId) && ANSWERED_STATUS_CODES.includes(c.statusCode);

/** Forwards everything to the simulator, noting the CallId of each detail query (the only API with one). */
function startRecordingProxy(target: string): Promise<Server> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", target);
    // The RPC client sends Action in the form body and the API's parameters in the query.
    const callId = url.searchParams.get("CallId");
    if (callId !== null) {
      queried.push(callId);
    }
    const upstream = request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

interface Outcome {
  status: string;
  reason: string | null;
}

/**
 * One daemon with `policy` over a fresh database. VoiceReports go first and are persisted
 * before anything else, so no call is ever seen without the VoiceReport it will have: the
 * policy's decision does not depend on arrival timing here.
 */
async function runWithPolicy(policy: string) {
  const db = await createTestDatabase();
  const prefix = randomPrefix();
  queried.length = 0;
  sim.control.resetCounters();
  const t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    // Through the recording proxy.
    env: reconcileEnv(sim, {
      VMS_API_ENDPOINT: proxyUrl,
      VMS_RECONCILE_POLICY: policy,
      LOG_LEVEL: "warn",
    }),
  });
  try {
    const reports = outbound
      .filter((c) => !withoutReport.has(c.callId))
      .map((c) => voiceReport(c) as Receipt);
    await pushReceipts(t.url, reports);
    await waitFor(() => countCalls(db, reports.length), { what: "VoiceReports persisted" });
    await pushReceipts(
      t.url,
      [...outbound, ...inbound]
        .flatMap(receiptsForCall)
        .filter((r) => r.messageType !== "VoiceReport"),
    );
    const all = [...outbound, ...inbound].map((c) => c.callId);
    await waitFor(() => callsSettled(db.pool, all), {
      timeoutMs: 30_000,
      what: `every call settled under ${policy}`,
    });
    const { rows } = await db.pool.query<{ call_id: string } & Outcome>(
      `select call_id, reconcile_status as status, reconcile_skip_reason as reason from calls`,
    );
    const outcomes = new Map(rows.map((r) => [r.call_id, { status: r.status, reason: r.reason }]));
    const report = await runReport(db.pool, findReport("reconcile"), {
      from: null,
      to: null,
      arg: null,
    });
    return {
      db,
      outcomes,
      queriedIds: new Set(queried),
      requests: queried.length,
      counted: sim.control.counters().detail.calls,
      report: report.rows,
      async close() {
        await t.stop();
        await db.drop();
        await deleteKeysWithPrefix(prefix);
      },
    };
  } catch (err) {
    await t.stop();
    await db.drop();
    throw err;
  }
}

async function countCalls(db: TestDatabase, n: number): Promise<boolean> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from calls where report_received_at is not null",
  );
  return rows[0]?.n === n;
}

/** Under a policy that selects `selected`: queried exactly those, the rest skipped with a reason. */
async function expectPolicy(policy: string, selected: (c: SimCall) => boolean) {
  const run = await runWithPolicy(policy);
  try {
    const want = new Set(outbound.filter(selected).map((c) => c.callId));
    expect([...run.queriedIds].sort()).toEqual([...want].sort());
    expect(run.counted, "simulator counter = requests seen on the wire").toBe(run.requests);
    for (const c of outbound) {
      expect(run.outcomes.get(c.callId), c.callId).toEqual(
        want.has(c.callId)
          ? { status: "reconciled", reason: null }
          : { status: "skipped", reason: "policy" },
      );
    }
    for (const c of inbound) {
      expect(run.outcomes.get(c.callId)).toEqual({ status: "skipped", reason: "inbound" });
    }
    const skippedByPolicy = outbound.length - want.size;
    expect(run.report).toEqual(
      expect.arrayContaining([
        { kind: "reconcile_status", name: "reconciled", calls: want.size },
        { kind: "reconcile_status", name: "skipped", calls: skippedByPolicy + inbound.length },
        { kind: "skip_reason", name: "policy", calls: skippedByPolicy },
        { kind: "skip_reason", name: "inbound", calls: inbound.length },
        { kind: "skip_reason", name: "off", calls: 0 },
        { kind: "skip_reason", name: "replay", calls: 0 },
      ]),
    );
    // Statuses first, then skip reasons, then discrepancies.
    expect(run.report.map((r) => r.kind).filter((k, i, a) => a.indexOf(k) === i)).toEqual(
      run.report.some((r) => r.kind === "discrepancy")
        ? ["reconcile_status", "skip_reason", "discrepancy"]
        : ["reconcile_status", "skip_reason"],
    );
    return run;
  } catch (err) {
    await run.close();
    throw err;
  }
}

beforeAll(async () => {
  sim = await startSimulator({ detailLagMs: 0, detailQps: 100 });
  sim.control.loadCalls([...outbound, ...inbound]);
  proxy = await startRecordingProxy(sim.url);
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((r) => proxy?.close(r));
  await sim?.close();
});

describe("VMS_RECONCILE_POLICY", () => {
  it("the corpus has calls of every kind the policies tell apart", () => {
    const withReport = outbound.filter((c) => !withoutReport.has(c.callId));
    expect(withReport.filter(succeeded).length).toBeGreaterThan(3);
    expect(withReport.filter((c) => !succeeded(c)).length).toBeGreaterThan(3);
    expect(outbound.filter((c) => withoutReport.has(c.callId) && succeeded(c))).toEqual([]);
  });

  it("all: queries every outbound call", async () => {
    const run = await expectPolicy("all", () => true);
    await run.close();
  });

  it("incomplete: queries only calls without a VoiceReport or with a failed status", async () => {
    const run = await expectPolicy("incomplete", (c) => !succeeded(c));
    await run.close();
  });

  it("sample:0.5 queries the calls whose call_id hashes below the rate, whatever their report", async () => {
    const chosen = (c: SimCall) => sampleFraction(c.callId) < 0.5;
    // The seeded corpus must make the sample tell something: some chosen and some not, of both
    // report outcomes.
    expect(outbound.filter(chosen).length).toBeGreaterThan(5);
    expect(outbound.filter((c) => !chosen(c)).length).toBeGreaterThan(5);
    expect(outbound.some((c) => chosen(c) && succeeded(c))).toBe(true);
    const run = await expectPolicy("sample:0.5", chosen);
    try {
      // replay --no-reconcile records its own reason; a call the policy skipped keeps its own.
      const fresh = gen.generate(1, ["voice"])[0]!;
      const policySkipped = outbound.find((c) => !chosen(c))!;
      await markCallsSkipped(
        run.db.pool,
        "VoiceReport",
        [fresh, policySkipped].map((c) => ({ raw: voiceReport(c)?.body })),
      );
      const { rows } = await run.db.pool.query<{ call_id: string; reason: string }>(
        "select call_id, reconcile_skip_reason as reason from calls where call_id = any($1)",
        [[fresh.callId, policySkipped.callId]],
      );
      expect(Object.fromEntries(rows.map((r) => [r.call_id, r.reason]))).toEqual({
        [fresh.callId]: "replay",
        [policySkipped.callId]: "policy",
      });
    } finally {
      await run.close();
    }
  });

  it("records off for calls skipped because reconcile is off, inbound for inbound ones", async () => {
    const db = await createTestDatabase();
    try {
      await db.pool.query(
        `insert into calls (call_id, direction) values ('1^1', 'outbound'), ('2^2', 'inbound')`,
      );
      expect(await markSkipped(db.pool, { onlyInbound: false, limit: 10 })).toBe(2);
      const { rows } = await db.pool.query<{ call_id: string; s: string; r: string }>(
        `select call_id, reconcile_status as s, reconcile_skip_reason as r from calls order by 1`,
      );
      expect(rows).toEqual([
        { call_id: "1^1", s: "skipped", r: "off" },
        { call_id: "2^2", s: "skipped", r: "inbound" },
      ]);
    } finally {
      await db.drop();
    }
  });
});
