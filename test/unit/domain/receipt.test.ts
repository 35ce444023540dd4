import { describe, expect, it } from "vitest";

import { DEDUP_KEY_PATTERN } from "../../../src/domain/dedup.js";
import {
  normalizeReceipt,
  type NormalizedReceipt,
  type NormalizeResult,
} from "../../../src/domain/receipt.js";
import {
  first,
  VOICE_CALL_REPORT_DTMF,
  VOICE_CALL_REPORT_INBOUND,
  VOICE_CALL_REPORT_OUTBOUND,
  VOICE_RECORD_REPORT,
  VOICE_REPORT_A,
  VOICE_REPORT_B,
} from "./examples.js";

function normalized(type: string, raw: unknown): NormalizedReceipt {
  const r = normalizeReceipt(type, raw);
  if (!r.ok) {
    throw new Error(r.reason);
  }
  return r.receipt;
}

function reason(r: NormalizeResult): string {
  return r.ok ? "(ok)" : r.reason;
}

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

describe("VoiceReport", () => {
  it("normalises the HTTP example A into a calls patch", () => {
    const body = first(VOICE_REPORT_A);
    const r = normalized("VoiceReport", body);
    expect(r.callId).toBe("122628733198^10942206****");
    expect(r.direction).toBe("outbound");
    expect(r.statusCode).toBe("200003");
    expect(iso(r.eventTime)).toBe("2021-04-28T02:03:40.000Z");
    expect(r.body).toBe(body);
    expect(r.event).toBeNull();
    expect(r.recording).toBeNull();
    expect(r.call).toMatchObject({
      source: "report",
      outId: "PROD#2021042810271227129999192500610008S#new#MYBK****",
      caller: "20200900****",
      callee: "130****0000",
      statusMsg: "执行完成",
      voiceType: "voice",
      durationSeconds: 10,
      dtmf: "1",
      startTime: null, // not in the receipt
      smartStatusCode: null,
      hangupDirection: null,
    });
    expect(iso(r.call?.originateTime)).toBe("2021-04-28T02:02:34.000Z");
    expect(iso(r.call?.ringTime)).toBe("2021-04-28T02:02:40.000Z");
    expect(iso(r.call?.endTime)).toBe("2021-04-28T02:03:40.000Z");
    expect(r.dedupKey).toMatch(DEDUP_KEY_PATTERN);
  });

  it("accepts the DoubleCall example B with numeric a_duration/b_duration, Chinese intact", () => {
    const body = first(VOICE_REPORT_B);
    const r = normalized("VoiceReport", body);
    expect(r.callId).toBe("114018005245^100828655245");
    expect(r.call).toMatchObject({
      statusCode: "200100",
      statusMsg: "呼叫结束（双呼）",
      durationSeconds: 8,
      outId: "abcdefgh",
    });
    expect(iso(r.call?.startTime)).toBe("2023-07-04T14:09:26.000Z");
    expect(r.body.a_duration).toBe(22); // body untouched
    expect(JSON.stringify(r.body)).toBe(JSON.stringify(JSON.parse(VOICE_REPORT_B)));
  });

  it("treats empty strings as absent and normalises hangup_direction", () => {
    const r = normalized("VoiceReport", {
      call_id: "1^2",
      start_time: "",
      end_time: "",
      duration: "0",
      status_code: "200003",
      caller: "",
      hangup_direction: "用户",
    });
    expect(r.eventTime).toBeNull();
    expect(r.call).toMatchObject({
      startTime: null,
      endTime: null,
      caller: null,
      durationSeconds: 0,
      hangupDirection: "user",
    });
  });

  it("keeps unknown fields in the body", () => {
    const body = { call_id: "1^2", duration: "3", brand_new_field: { nested: ["x"] } };
    expect(normalized("VoiceReport", body).body).toEqual(body);
  });

  it.each([
    [{ duration: "3" }, 'VoiceReport: field "call_id" is required'],
    [{ call_id: "", duration: "3" }, 'VoiceReport: field "call_id" is required (it is empty)'],
    [{ call_id: true }, 'VoiceReport: field "call_id" must be a non-empty string or a number'],
    [
      { call_id: "1^2", end_time: "2023-02-30 10:00:00" },
      'VoiceReport: field "end_time" is not a valid time: "2023-02-30 10:00:00" (day 30 does not exist in 2023-02)',
    ],
    [
      { call_id: "1^2", b_ring_time: "2023-07-04T22:09:24" },
      'VoiceReport: field "b_ring_time" is not a valid time: "2023-07-04T22:09:24" (expected yyyy-MM-dd HH:mm:ss)',
    ],
    [
      { call_id: "1^2", duration: "ten" },
      'VoiceReport: field "duration" must be a whole number, got "ten"',
    ],
    [
      { call_id: "1^2", b_duration: -1 },
      'VoiceReport: field "b_duration" must be at least 0, got -1',
    ],
    [
      { call_id: "1^2", caller: { n: 1 } },
      'VoiceReport: field "caller" must be a string, a number or null',
    ],
  ])("rejects %j with a reason naming the field", (raw, expected) => {
    expect(reason(normalizeReceipt("VoiceReport", raw))).toBe(expected);
  });
});

describe("VoiceCallReport", () => {
  it("normalises the outbound HTTP example into an event row and a small patch", () => {
    const body = first(VOICE_CALL_REPORT_OUTBOUND);
    const r = normalized("VoiceCallReport", body);
    expect(r.callId).toBe("100001616500^10000187****");
    expect(r.direction).toBe("outbound");
    expect(iso(r.eventTime)).toBe("2021-04-28T01:55:02.000Z");
    expect(r.event).toEqual({
      callId: "100001616500^10000187****",
      statusCode: "200101",
      statusTime: new Date("2021-04-28T01:55:02.000Z"),
      dtmf: null,
      outId: "PROD#2021042810271227129999192500610008S#new#MYBK****#",
      smartStatusCode: null,
      body,
    });
    expect(r.call).toMatchObject({
      source: "event",
      lastEventCode: "200101",
      lastEventTime: new Date("2021-04-28T01:55:02.000Z"),
      statusCode: null, // CDR fields come from VoiceReport only
      durationSeconds: null,
      dtmf: null,
    });
  });

  it("carries the key press of the IVR DTMF example into the patch", () => {
    const r = normalized("VoiceCallReport", first(VOICE_CALL_REPORT_DTMF));
    expect(r.event).toMatchObject({ statusCode: "300000", dtmf: "1", smartStatusCode: "ANSWERED" });
    expect(r.call).toMatchObject({
      dtmf: "1",
      smartStatusCode: "ANSWERED",
      outId: "4*************2",
    });
  });

  it("does not take dtmf into the patch for other states", () => {
    const r = normalized("VoiceCallReport", { call_id: "1^2", status_code: "200102", dtmf: "9" });
    expect(r.event?.dtmf).toBe("9");
    expect(r.call?.dtmf).toBeNull();
  });

  it("keys the inbound example by biz_id", () => {
    const r = normalized("VoiceCallReport", first(VOICE_CALL_REPORT_INBOUND));
    expect(r.callId).toBe("1***********3^1***********6");
    expect(r.direction).toBe("inbound");
    expect(r.call).toMatchObject({ callId: "1***********3^1***********6", direction: "inbound" });
    expect(r.event?.callId).toBe("1***********3^1***********6");
    expect(iso(r.eventTime)).toBe("2023-03-05T16:47:10.000Z");
    expect(r.body.extend).toBe("3619");
  });

  it("accepts a numeric status_code", () => {
    const r = normalized("VoiceCallReport", { call_id: "1^2", status_code: 200201 });
    expect(r.statusCode).toBe("200201");
  });

  it.each([
    [
      { status_code: "200101" },
      'VoiceCallReport: field "call_id" is required (or "biz_id" for an inbound call)',
    ],
    [
      { call_id: "", biz_id: " ", status_code: "200101" },
      'VoiceCallReport: field "call_id" is required (or "biz_id" for an inbound call)',
    ],
    [{ call_id: "1^2" }, 'VoiceCallReport: field "status_code" is required'],
    [
      { biz_id: "1^2", status_code: "" },
      'VoiceCallReport: field "status_code" is required (it is empty)',
    ],
    [
      { call_id: "1^2", status_code: "200101", status_time: "2021-04-28 25:00:00" },
      'VoiceCallReport: field "status_time" is not a valid time: "2021-04-28 25:00:00" (time of day 25:00:00 is out of range)',
    ],
  ])("rejects %j with a reason naming the field", (raw, expected) => {
    expect(reason(normalizeReceipt("VoiceCallReport", raw))).toBe(expected);
  });
});

describe("VoiceRecordReport", () => {
  it("normalises the example with numeric duration 0 into a recording row", () => {
    const body = first(VOICE_RECORD_REPORT);
    const r = normalized("VoiceRecordReport", body);
    expect(r.callId).toBe("1*******5^2*******0");
    expect(r.statusCode).toBe("200005");
    expect(iso(r.eventTime)).toBe("2023-03-15T08:03:07.000Z");
    expect(r.recording).toMatchObject({
      recordFile: body.record_file,
      durationSeconds: 0,
      statusCode: "200005",
      smartStatusCode: "ANSWERED",
      outId: "2aqbhgty1***************2",
    });
    expect(iso(r.recording?.recordBeginTime)).toBe("2023-03-15T08:02:11.000Z");
    expect(r.recording?.body).toBe(body);
    expect(r.call).toMatchObject({
      source: "record",
      outId: "2aqbhgty1***************2",
      statusCode: null,
    });
    expect(r.event).toBeNull();
  });

  it("requires record_file", () => {
    expect(reason(normalizeReceipt("VoiceRecordReport", { call_id: "1^2", record_file: "" }))).toBe(
      'VoiceRecordReport: field "record_file" is required (it is empty)',
    );
  });
});

describe("unknown message types", () => {
  it("are accepted with a call patch from call_id and nothing else", () => {
    const body = { call_id: "1^2", out_id: 7, words: "你好", begin_time: "2021-04-28 10:02:40" };
    const r = normalized("VoiceRTASRReport", body);
    expect(r.messageType).toBe("VoiceRTASRReport");
    expect(r.callId).toBe("1^2");
    expect(r.outId).toBe("7");
    expect(iso(r.eventTime)).toBe("2021-04-28T02:02:40.000Z");
    expect(r.call).toMatchObject({
      callId: "1^2",
      direction: "outbound",
      outId: "7",
      caller: null,
    });
    expect(r.event).toBeNull();
    expect(r.recording).toBeNull();
    expect(r.body).toBe(body);
  });

  it("use biz_id as an inbound call id", () => {
    const r = normalized("SomethingNew", { biz_id: "9^9" });
    expect(r.callId).toBe("9^9");
    expect(r.direction).toBe("inbound");
  });

  it("have no call when they carry no id, and never fail on odd fields", () => {
    const r = normalized("SomethingNew", { status_time: "not a time", call_id: { x: 1 } });
    expect(r.callId).toBeNull();
    expect(r.call).toBeNull();
    expect(r.eventTime).toBeNull();
  });
});

describe("malformed receipts", () => {
  it.each([
    [[], "array"],
    ["{}", "string"],
    [null, "null"],
    [42, "number"],
    [new Date(0), "object"],
  ])("rejects the non-object %j", (raw, got) => {
    expect(reason(normalizeReceipt("VoiceReport", raw))).toBe(
      `VoiceReport: receipt must be a JSON object, got ${got}`,
    );
  });

  it.each([
    ['{"call_id":"1^2","__proto__":{"polluted":true}}', '"__proto__"'],
    ['{"call_id":"1^2","constructor":{"prototype":{"polluted":true}}}', '"constructor"'],
    ['{"call_id":"1^2","extra":{"deep":[{"prototype":1}]}}', '"extra.deep[0].prototype"'],
  ])("rejects prototype-polluting keys anywhere: %s", (json, field) => {
    const r = normalizeReceipt("SomethingNew", JSON.parse(json));
    expect(reason(r)).toBe(
      `SomethingNew: field ${field} is not allowed (prototype pollution guard)`,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects absurdly deep nesting instead of recursing without bound", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 100; i += 1) {
      deep = { d: deep };
    }
    expect(reason(normalizeReceipt("X", { call_id: "1", deep }))).toMatch(/nested too deeply/);
  });
});
