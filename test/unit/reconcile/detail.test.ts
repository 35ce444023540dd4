import { describe, expect, it } from "vitest";

import {
  computeDiscrepancies,
  decodeDetailData,
  decodeDetailResponse,
  detailValues,
  mergeDiscrepancies,
  statusMessageFor,
  type ComparedValues,
} from "../../../src/reconcile/detail.js";
import { buildReconciledWrite, reportValues } from "../../../src/reconcile/reconcileCall.js";
import type { CallSnapshot } from "../../../src/store/calls/reads.js";
import { callSnapshot } from "../../helpers/callSnapshot.js";

const bj = (s: string) => new Date(`${s.replace(" ", "T")}+08:00`);

const DETAIL = {
  caller: "057112345678",
  callee: "13800000000",
  startDate: "2026-11-25 10:00:10",
  endDate: "2026-11-25 10:00:40",
  duration: 30,
  state: "200000",
  stateDesc: "用户听完语音",
  gmtCreate: "2026-11-25 10:00:00",
  bRingTime: "2026-11-25 10:00:05",
  hangupDirection: 0,
};

describe("decodeDetailData", () => {
  it("decodes the documented JSON string", () => {
    expect(decodeDetailData(JSON.stringify(DETAIL))).toEqual({ kind: "found", detail: DETAIL });
  });

  it.each([undefined, null, "", "  ", "null", "{}", {}])("treats %j as not there", (v) => {
    expect(decodeDetailData(v)).toEqual({ kind: "empty" });
  });

  it("accepts an already decoded object", () => {
    expect(decodeDetailData(DETAIL)).toEqual({ kind: "found", detail: DETAIL });
  });

  it("repairs the full-width commas of the documentation's example", () => {
    const doc =
      '{"caller":"18767****","startDate":"","stateDesc":"502","duration":0,"state":"502","endDate":"","bRingTime":"2022-01-01 12:02:00"，"bEndTime":"2022-01-01 12:02:28"，"callee":"1373546****"}';
    const r = decodeDetailData(doc);
    expect(r.kind).toBe("found");
    expect(r.kind === "found" && r.detail.bEndTime).toBe("2022-01-01 12:02:28");
  });

  it("reports what is not a JSON object", () => {
    expect(decodeDetailData("[1,2]").kind).toBe("invalid");
    expect(decodeDetailData("not json").kind).toBe("invalid");
    expect(decodeDetailData(42).kind).toBe("invalid");
  });

  it("reads Data from a whole response body", () => {
    expect(decodeDetailResponse({ Code: "OK", Data: "" })).toEqual({ kind: "empty" });
    expect(decodeDetailResponse({ Code: "OK", Data: JSON.stringify(DETAIL) }).kind).toBe("found");
    expect(decodeDetailResponse("nope")).toEqual({ kind: "empty" });
  });
});

describe("detailValues", () => {
  it("maps the detail onto calls columns, times as Beijing time", () => {
    expect(detailValues(DETAIL)).toEqual({
      statusCode: "200000",
      statusMsg: "用户听完语音",
      startTime: bj("2026-11-25 10:00:10"),
      endTime: bj("2026-11-25 10:00:40"),
      ringTime: bj("2026-11-25 10:00:05"),
      durationSeconds: 30,
      caller: "057112345678",
      callee: "13800000000",
      hangupDirection: "user",
    });
  });

  it("treats empty, malformed and masked values as absent", () => {
    const v = detailValues({
      state: 502,
      stateDesc: "502",
      startDate: "",
      endDate: "2026-02-30 00:00:00",
      duration: "abc",
      caller: "18767****",
      hangupDirection: "机器",
    });
    expect(v).toMatchObject({
      statusCode: "502",
      statusMsg: null,
      startTime: null,
      endTime: null,
      durationSeconds: null,
      caller: null,
      callee: null,
      hangupDirection: "machine",
    });
  });

  it("accepts the duration as a numeric string and hangupDirection 1 as the machine", () => {
    expect(detailValues({ duration: "12", hangupDirection: 1 })).toMatchObject({
      durationSeconds: 12,
      hangupDirection: "machine",
    });
  });
});

describe("discrepancies", () => {
  const detail: ComparedValues = {
    statusCode: "200001",
    startTime: bj("2026-11-25 10:00:10"),
    endTime: bj("2026-11-25 10:00:41"),
    durationSeconds: 31,
    caller: "057112345678",
    callee: "13800000000",
    hangupDirection: "user",
  };

  it("records fields where both sides have different values, with both values", () => {
    const receipt: ComparedValues = {
      ...detail,
      statusCode: "200000",
      endTime: bj("2026-11-25 10:00:40"),
      durationSeconds: 30,
    };
    expect(computeDiscrepancies(receipt, detail)).toEqual({
      status_code: { receipt: "200000", detail: "200001" },
      end_time: { receipt: "2026-11-25T02:00:40.000Z", detail: "2026-11-25T02:00:41.000Z" },
      duration_seconds: { receipt: 30, detail: 31 },
    });
  });

  it("does not count a value only one side has", () => {
    expect(computeDiscrepancies({ statusCode: null, caller: null }, detail)).toEqual({});
    expect(computeDiscrepancies(detail, { ...detail, endTime: null, caller: null })).toEqual({});
  });

  it("compares times by instant", () => {
    expect(
      computeDiscrepancies({ startTime: new Date(detail.startTime!.getTime()) }, detail),
    ).toEqual({});
  });

  it("keeps earlier disagreements when a late receipt adds one", () => {
    const earlier = { status_code: { receipt: "200000", detail: "200001" }, junk: 1 };
    expect(mergeDiscrepancies(earlier, { duration_seconds: { receipt: 35, detail: 31 } })).toEqual({
      status_code: { receipt: "200000", detail: "200001" },
      duration_seconds: { receipt: 35, detail: 31 },
    });
    expect(mergeDiscrepancies(null, {})).toEqual({});
  });

  it("picks the status text: the detail's own, else the code's meaning when the code changed", () => {
    const v = detailValues({ state: "200003", stateDesc: "200003" });
    expect(statusMessageFor(v, "200000")).toBe("用户收到呼叫但未接听");
    expect(statusMessageFor(v, "200003")).toBeNull();
    expect(statusMessageFor(detailValues(DETAIL), "200001")).toBe("用户听完语音");
  });
});

describe("buildReconciledWrite", () => {
  const call = callSnapshot({
    caller: "057112345678",
    callee: "13800000000",
    statusCode: "200001",
    statusMsg: "用户提前挂机未完整收听",
    durationSeconds: 29,
    hangupDirection: "user",
    originateTime: bj("2026-11-25 10:00:01"),
    startTime: bj("2026-11-25 10:00:10"),
    endTime: bj("2026-11-25 10:00:39"),
    createdAt: bj("2026-11-25 10:00:50"),
    version: "1795000000000000",
    dueInMs: 0,
  });

  it("compares a pending call's receipt values with the detail", () => {
    const w = buildReconciledWrite(call, DETAIL, "11000000300006", 1, undefined);
    expect(w).toMatchObject({
      kind: "reconciled",
      version: call.version,
      prodId: "11000000300006",
      attemptIncrement: 1,
      columns: { statusCode: "200000", statusMsg: "用户听完语音", durationSeconds: 30 },
    });
    expect(Object.keys(w.discrepancies).sort()).toEqual([
      "duration_seconds",
      "end_time",
      "status_code",
    ]);
  });

  it("for a reconciled call, compares only the late VoiceReport and keeps what was recorded", () => {
    const reconciled: CallSnapshot = {
      ...call,
      reconcileStatus: "reconciled",
      statusCode: "200000",
      discrepancies: { caller: { receipt: "x", detail: "057112345678" } },
    };
    const late = reportValues({
      call_id: call.callId,
      status_code: "200000",
      duration: "35",
      start_time: "2026-11-25 10:00:10",
      end_time: "2026-11-25 10:00:40",
    });
    const w = buildReconciledWrite(reconciled, DETAIL, "11000000300006", 0, late);
    expect(w.discrepancies).toEqual({
      caller: { receipt: "x", detail: "057112345678" },
      duration_seconds: { receipt: 35, detail: 30 },
    });
    expect(reportValues({ not: "a report" })).toBeUndefined();
  });
});
