/**
 * The control API over HTTP, for a simulator running as its own process (`simulate`, docker
 * compose). Unauthenticated by design: it is a local test tool. Routes (JSON bodies):
 *   GET  /__control/counters            counters
 *   GET  /__control/queues              queues with message counts
 *   POST /__control/settings            {detailLagMs?, detailQps?, tokenLifetimeSeconds?}
 *   POST /__control/calls               {count, kinds?, deliver?: "mns"|"none", pushUrl?}
 *        (receipts go to MNS unless pushUrl is given; deliver "mns" with pushUrl does both)
 *   POST /__control/faults              {target, kind, status?, code?, count?}
 *   POST /__control/clock               {advanceMs}
 */
import type { IncomingMessage, ServerResponse } from "node:http";

import { CALL_KINDS, type CallKind } from "./calls.js";
import type { SimulatorControl } from "./control.js";
import type { Fault, FaultTarget } from "./faults.js";
import { sendJson } from "./http.js";
import type { PushClient } from "./pushClient.js";
import { groupByType, receiptsForCall } from "./receipts.js";

export const CONTROL_PREFIX = "/__control/";

const TARGETS: readonly FaultTarget[] = ["mns", "token", "detail"];

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export async function handleControl(
  control: SimulatorControl,
  pushClientFor: (url: string) => PushClient,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<void> {
  const route = `${req.method ?? "GET"} ${(req.url ?? "").split("?")[0]}`;
  let input: Record<string, unknown> = {};
  if (body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString("utf8"));
      input =
        typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      sendJson(res, 400, { error: "body must be JSON" });
      return;
    }
  }
  switch (route) {
    case "GET /__control/counters":
      sendJson(res, 200, control.counters());
      return;
    case "GET /__control/queues":
      sendJson(
        res,
        200,
        control.queueNames().map((name) => ({ name, ...control.queueStats(name) })),
      );
      return;
    case "POST /__control/settings": {
      const lag = num(input.detailLagMs);
      const qps = num(input.detailQps);
      const lifetime = num(input.tokenLifetimeSeconds);
      if (lag !== undefined) {
        control.setDetailLag(lag);
      }
      if (qps !== undefined) {
        control.setDetailQps(qps);
      }
      if (lifetime !== undefined) {
        control.setTokenLifetime(lifetime);
      }
      sendJson(res, 200, control.settings());
      return;
    }
    case "POST /__control/calls": {
      const count = num(input.count) ?? 10;
      const kinds = Array.isArray(input.kinds)
        ? input.kinds.filter((k): k is CallKind => CALL_KINDS.includes(k as CallKind))
        : undefined;
      if (count < 1 || count > 100_000 || (kinds !== undefined && kinds.length === 0)) {
        sendJson(res, 400, {
          error: `count must be 1..100000, kinds from ${CALL_KINDS.join(",")}`,
        });
        return;
      }
      const calls = control.generateCalls(count, kinds);
      const receipts = calls.flatMap(receiptsForCall);
      const toMns =
        input.deliver === "mns" ||
        (input.deliver === undefined && typeof input.pushUrl !== "string");
      if (toMns) {
        control.enqueueReceipts(receipts);
      }
      if (typeof input.pushUrl === "string") {
        const client = pushClientFor(input.pushUrl);
        for (const [type, bodies] of groupByType(receipts)) {
          void client.pushAll(type, bodies);
        }
      }
      sendJson(res, 200, { calls: calls.map((c) => c.callId), receipts: receipts.length });
      return;
    }
    case "POST /__control/faults": {
      const target = input.target as FaultTarget;
      const kind = input.kind;
      const status = num(input.status) ?? 500;
      const fault: Fault | undefined =
        kind === "drop"
          ? { kind: "drop" }
          : kind === "garbage"
            ? { kind: "garbage", status }
            : kind === "error"
              ? {
                  kind: "error",
                  status,
                  code: typeof input.code === "string" ? input.code : "InternalError",
                }
              : undefined;
      if (!TARGETS.includes(target) || !fault) {
        sendJson(res, 400, { error: "target must be mns|token|detail, kind drop|garbage|error" });
        return;
      }
      control.injectFault(target, fault, num(input.count) ?? 1);
      sendJson(res, 200, { ok: true });
      return;
    }
    case "POST /__control/recordings": {
      // {dataBytes?, bytesPerSecond?, failNext?: {status, count}, cutAfter?: {bytes, count}}
      const dataBytes = num(input.dataBytes);
      if (dataBytes !== undefined) {
        control.setRecordingBytes(dataBytes);
      }
      const pair = (v: unknown, a: string) => {
        const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
        const x = num(o[a]);
        const count = num(o.count) ?? 1;
        return x === undefined ? undefined : { x, count };
      };
      const fail = pair(input.failNext, "status");
      const cut = pair(input.cutAfter, "bytes");
      control.setRecordingFaults({
        bytesPerSecond: num(input.bytesPerSecond) ?? 0,
        ...(fail ? { failNext: { status: fail.x, count: fail.count } } : {}),
        ...(cut ? { cutAfter: { bytes: cut.x, count: cut.count } } : {}),
      });
      sendJson(res, 200, { ok: true });
      return;
    }
    case "POST /__control/clock":
      control.advanceClock(Math.max(0, num(input.advanceMs) ?? 0));
      sendJson(res, 200, { now: control.now() });
      return;
    default:
      sendJson(res, 404, { error: `no control route ${route}` });
  }
}
