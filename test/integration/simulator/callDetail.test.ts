/**
 * QueryCallDetailByCallId through the real @alicloud/openapi-client: lag, matching rules,
 * throttling and injected faults, mapped to our typed errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { AlibabaApiError } from "../../../src/alibaba/openapi.js";
import { RateLimitedError, UpstreamError } from "../../../src/errors.js";
import {
  THROTTLING_CODE,
  createCallGenerator,
  receiptsForCall,
  type SimCall,
  type Simulator,
} from "../../../src/simulator/index.js";
import { rejection, rpcClient, startTestSimulator } from "./fixture.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSimulator({ detailLagMs: 0 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.control.setDetailLag(0);
  sim.control.setDetailQps(100);
  sim.control.clearFaults();
});

async function detail(call: Pick<SimCall, "callId">, prodId: string, queryDate: number) {
  const body = (await rpcClient(sim).call("QueryCallDetailByCallId", "2017-05-25", {
    CallId: call.callId,
    ProdId: prodId,
    QueryDate: String(queryDate),
  })) as { Code: string; Data: string };
  expect(body.Code).toBe("OK");
  expect(typeof body.Data).toBe("string");
  return body.Data === "" ? undefined : (JSON.parse(body.Data) as Record<string, unknown>);
}

function answeredCall(seed: number): SimCall {
  const gen = createCallGenerator({ seed, startTime: Date.now() - 600_000, answerRate: 1 });
  const call = gen.next("voice");
  sim.control.loadCalls([call]);
  return call;
}

describe("QueryCallDetailByCallId", () => {
  it("answers empty Data until the lag after the call ended has passed, then the detail as a JSON string", async () => {
    const call = answeredCall(11);
    const sinceEnd = Date.now() - call.endTime;
    sim.control.setDetailLag(sinceEnd + 60_000);
    expect(await detail(call, call.prodId!, call.originateTime)).toBeUndefined();

    sim.control.advanceClock(61_000);
    const d = await detail(call, call.prodId!, call.originateTime);
    expect(d).toMatchObject({
      caller: call.caller,
      callee: call.callee,
      duration: call.durationSeconds,
      state: call.statusCode,
    });
    // Consistent with the receipts of the same call.
    const report = receiptsForCall(call).find((r) => r.messageType === "VoiceReport")!;
    expect(d!.startDate).toBe(report.body.start_time);
    expect(d!.endDate).toBe(report.body.end_time);
  });

  it("answers empty Data when ProdId or QueryDate do not match the call", async () => {
    const call = answeredCall(12);
    expect(await detail(call, "11010000138001", call.originateTime)).toBeUndefined();
    expect(await detail(call, call.prodId!, call.originateTime - 86_400_000)).toBeUndefined();
    expect(
      await detail({ callId: "000000000000^000000000000" }, call.prodId!, call.originateTime),
    ).toBeUndefined();
    expect(await detail(call, call.prodId!, call.originateTime)).toBeDefined();
  });

  it("throttles calls above the QPS limit in a sliding second with Throttling.User", async () => {
    // A simulator of its own: the other tests' calls would share the sliding window.
    const own = await startTestSimulator({ detailLagMs: 0, detailQps: 5 });
    const call = createCallGenerator({ seed: 13, answerRate: 1 }).next("ivr");
    own.control.loadCalls([call]);
    const client = rpcClient(own);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        client.call("QueryCallDetailByCallId", "2017-05-25", {
          CallId: call.callId,
          ProdId: call.prodId!,
          QueryDate: String(call.originateTime),
        }),
      ),
    );
    const throttled = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(throttled).toHaveLength(7);
    for (const r of throttled) {
      const reason = (r as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(RateLimitedError);
      expect(reason.message).toContain(THROTTLING_CODE);
    }
    const counters = own.control.counters().detail;
    expect(counters).toMatchObject({
      calls: 5,
      throttled: 7,
      maxPerSecond: 5,
      maxAttemptsPerSecond: 12,
    });
    await own.close();
  });

  it("turns injected 5xx, non-JSON answers and dropped connections into retryable UpstreamError", async () => {
    const call = answeredCall(14);
    sim.control.injectFault(
      "detail",
      { kind: "error", status: 503, code: "ServiceUnavailable" },
      2,
    );
    sim.control.injectFault("detail", { kind: "garbage", status: 502 });
    sim.control.injectFault("detail", { kind: "drop" });
    for (let i = 0; i < 4; i++) {
      const err = await rejection(detail(call, call.prodId!, call.originateTime));
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err).toMatchObject({ retryable: true });
    }
    expect(await detail(call, call.prodId!, call.originateTime)).toBeDefined();
  });

  it("times out slow answers as UpstreamError", async () => {
    const call = answeredCall(15);
    sim.control.setLatency("detail", 400);
    const { createRpcClient } = await import("../../../src/alibaba/openapi.js");
    const impatient = createRpcClient({ endpoint: sim.url, ...sim.credentials, timeoutMs: 150 });
    const err = await rejection(
      impatient.call("QueryCallDetailByCallId", "2017-05-25", {
        CallId: call.callId,
        ProdId: call.prodId!,
        QueryDate: String(call.originateTime),
      }),
    );
    expect(err).toBeInstanceOf(UpstreamError);
    sim.control.setLatency("detail", 0);
  });

  it("calls onSent once when the request leaves, before its answer, and only for its own call", async () => {
    const call = answeredCall(16);
    sim.control.setLatency("detail", 200);
    const rpc = rpcClient(sim);
    const sentAt: number[] = [];
    const query = {
      CallId: call.callId,
      ProdId: call.prodId!,
      QueryDate: String(call.originateTime),
    };
    // A call without the hook at the same time (same host, same keep-alive agent) is not counted.
    const other = answeredCall(17);
    const [answered] = await Promise.all([
      rpc
        .call("QueryCallDetailByCallId", "2017-05-25", query, () => sentAt.push(Date.now()))
        .then(() => Date.now()),
      rpc.call("QueryCallDetailByCallId", "2017-05-25", {
        ...query,
        CallId: other.callId,
        ProdId: other.prodId!,
      }),
    ]);
    sim.control.setLatency("detail", 0);
    expect(sentAt).toHaveLength(1);
    // The simulator answers 200 ms after the request arrived: sent at the request, not the answer.
    expect(answered - sentAt[0]!).toBeGreaterThanOrEqual(190);
  });

  it("rejects missing parameters as a non-retryable error", async () => {
    const err = await rejection(
      rpcClient(sim).call("QueryCallDetailByCallId", "2017-05-25", { CallId: "1^2", ProdId: "1" }),
    );
    expect(err).toBeInstanceOf(AlibabaApiError);
    expect(err).toMatchObject({ code: "MissingQueryDate", retryable: false });
  });

  it("answers a detail that disagrees with the receipts when the call is flagged", async () => {
    const gen = createCallGenerator({ seed: 16, answerRate: 1, discrepancyRate: 1 });
    const call = gen.generate(5, ["voice"]).find((c) => c.discrepancy === "duration")!;
    sim.control.loadCalls([call]);
    const d = await detail(call, call.prodId!, call.originateTime);
    expect(d!.duration).toBe(call.durationSeconds + 1);
  });
});
