/**
 * dyvmsapi `QueryCallDetailByCallId` (docs/alibaba.md §4): `Data` is a JSON *string*, `""` until
 * the detail lag after the call's end has passed and whenever ProdId or QueryDate (ms, must fall on
 * the call's Beijing day) do not match. Above the QPS limit in any sliding second it answers HTTP
 * 400 `Throttling.User` (our assumption: the real code is unconfirmed, docs/alibaba.md §4.3).
 */
import { performance } from "node:perf_hooks";

import type { SimCall } from "./calls.js";
import { beijingDay, type Clock } from "./clock.js";
import { SlidingWindow, type SimCounters } from "./counters.js";
import type { FaultBox } from "./faults.js";
import { detailForCall, type CallDetail } from "./receipts.js";
import { RpcError, applyFault, requireParam, type RpcAction } from "./rpc.js";

export const THROTTLING_CODE = "Throttling.User";

export interface DetailSettings {
  /** Time after a call's end before its detail is visible; docs: 3–5 min. */
  lagMs: number;
  /** Answered calls allowed in any sliding 1 s window; the real account limit is 100. */
  qps: number;
  /**
   * Kinds of call whose detail never appears, whatever the ProdId (some docs say the API does
   * not cover voice-robot calls): lets tests see the reconciler learn such a kind.
   */
  withoutDetail: Set<SimCall["kind"]>;
}

export interface DetailRecord {
  call: SimCall;
  detail: CallDetail;
}

/** Calls the simulated account made, keyed by call_id. */
export class CallStore {
  private readonly records = new Map<string, DetailRecord>();

  add(call: SimCall): void {
    this.records.set(call.callId, { call, detail: detailForCall(call) });
  }

  get(callId: string): DetailRecord | undefined {
    return this.records.get(callId);
  }

  get size(): number {
    return this.records.size;
  }
}

const DIGITS = /^\d{1,20}$/;

export function callDetailAction(deps: {
  calls: CallStore;
  clock: Clock;
  counters: SimCounters;
  faults: FaultBox;
  settings: DetailSettings;
}): RpcAction {
  // Real time, not the simulated clock: rate limits are about how fast the client really calls.
  const answered = new SlidingWindow(1000);
  const attempts = new SlidingWindow(1000);
  const c = deps.counters.detail;
  /** Arrival times of the last QPS + 1 requests, for minSpanOverLimitMs. */
  const recent: number[] = [];
  return {
    version: "2017-05-25",
    target: "detail",
    handle({ params }) {
      const t = performance.now();
      c.maxAttemptsPerSecond = Math.max(c.maxAttemptsPerSecond, attempts.add(t));
      recent.push(t);
      while (recent.length > deps.settings.qps + 1) {
        recent.shift();
      }
      if (recent.length === deps.settings.qps + 1) {
        const span = t - recent[0]!;
        c.minSpanOverLimitMs = Math.min(c.minSpanOverLimitMs ?? Infinity, span);
      }
      if (answered.count(t) >= deps.settings.qps) {
        c.throttled++;
        throw new RpcError(400, THROTTLING_CODE, "Request was denied due to user flow control.");
      }
      c.maxPerSecond = Math.max(c.maxPerSecond, answered.add(t));
      c.calls++;
      applyFault(deps.faults, "detail", () => c.faults++);
      const callId = requireParam(params, "CallId");
      const prodId = requireParam(params, "ProdId");
      const queryDate = requireParam(params, "QueryDate");
      for (const [name, value] of [
        ["ProdId", prodId],
        ["QueryDate", queryDate],
      ] as const) {
        if (!DIGITS.test(value)) {
          throw new RpcError(400, "InvalidParameter", `Specified parameter ${name} is not valid.`);
        }
      }
      const record = deps.calls.get(callId);
      const visible =
        record !== undefined &&
        !deps.settings.withoutDetail.has(record.call.kind) &&
        record.call.prodId === prodId &&
        beijingDay(Number(queryDate)) === beijingDay(record.call.originateTime) &&
        deps.clock.now() >= record.call.endTime + deps.settings.lagMs;
      if (!visible) {
        c.emptyData++;
        const kind = record
          ? `${record.call.kind}${record.call.outId === undefined ? ":no-out-id" : ""}`
          : "unknown";
        c.emptyByKind[kind] = (c.emptyByKind[kind] ?? 0) + 1;
      }
      return {
        Code: "OK",
        Message: "OK",
        Data: visible ? JSON.stringify(record.detail) : "",
      };
    },
  };
}
