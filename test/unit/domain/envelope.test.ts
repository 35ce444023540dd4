import { describe, expect, it } from "vitest";

import { decodeMnsBody, inferMessageType, parsePushBody } from "../../../src/domain/envelope.js";
import {
  first,
  VOICE_CALL_REPORT_DTMF,
  VOICE_CALL_REPORT_INBOUND,
  VOICE_CALL_REPORT_OUTBOUND,
  VOICE_RECORD_REPORT,
  VOICE_REPORT_A,
  VOICE_REPORT_B,
} from "./examples.js";

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("parsePushBody", () => {
  it("gives the items of a JSON array", () => {
    const r = parsePushBody(VOICE_REPORT_A);
    expect(r.kind).toBe("items");
    expect(r.kind === "items" && r.items).toEqual(JSON.parse(VOICE_REPORT_A));
  });

  it("accepts a single object as one item", () => {
    const r = parsePushBody(VOICE_REPORT_B);
    expect(r).toEqual({ kind: "items", items: [JSON.parse(VOICE_REPORT_B)] });
  });

  it("keeps invalid items inside a valid array for per-item rejection", () => {
    expect(parsePushBody('[{"call_id":"1"}, 5, null]')).toEqual({
      kind: "items",
      items: [{ call_id: "1" }, 5, null],
    });
  });

  it("accepts an empty array", () => {
    expect(parsePushBody("[]")).toEqual({ kind: "items", items: [] });
  });

  it("recognises the console's test push", () => {
    expect(parsePushBody('{"json":"test-content"}')).toEqual({ kind: "test" });
    expect(parsePushBody(' { "json" : "test-content" } ')).toEqual({ kind: "test" });
  });

  it("does not take an object with more fields for the test push", () => {
    expect(parsePushBody('{"json":"test-content","call_id":"1"}').kind).toBe("items");
  });

  it.each([
    ["", "push body is empty"],
    ["   ", "push body is empty"],
    ["not json", "push body is not valid JSON"],
    ['[{"a":1}', "push body is not valid JSON"],
    ['"a string"', "push body must be a JSON array or object, got string"],
    ["42", "push body must be a JSON array or object, got number"],
    ["null", "push body must be a JSON array or object, got null"],
  ])("reports %j as invalid", (text, reason) => {
    const r = parsePushBody(text);
    expect(r.kind).toBe("invalid");
    expect(r.kind === "invalid" && r.reason).toContain(reason);
  });

  it("tolerates a UTF-8 byte-order mark", () => {
    expect(parsePushBody('\uFEFF[{"call_id":"1"}]')).toEqual({
      kind: "items",
      items: [{ call_id: "1" }],
    });
  });
});

describe("decodeMnsBody", () => {
  it("decodes a Base64 UTF-8 JSON object into one item, Chinese intact", () => {
    const receipt = first(VOICE_REPORT_B);
    const r = decodeMnsBody(base64(JSON.stringify(receipt)));
    expect(r).toEqual({ kind: "items", items: [receipt] });
    expect(r.kind === "items" && (r.items[0] as Record<string, unknown>).status_msg).toBe(
      "呼叫结束（双呼）",
    );
  });

  it("decodes a Base64 array into many items, defensively", () => {
    const r = decodeMnsBody(base64(VOICE_CALL_REPORT_OUTBOUND));
    expect(r).toEqual({ kind: "items", items: JSON.parse(VOICE_CALL_REPORT_OUTBOUND) });
  });

  it("accepts Base64 with line breaks and URL-safe Base64", () => {
    const text = JSON.stringify({ call_id: "1^2", words: "好好好？>>>" });
    const std = base64(text);
    expect(decodeMnsBody(std.replace(/(.{20})/g, "$1\n")).kind).toBe("items");
    expect(decodeMnsBody(Buffer.from(text).toString("base64url"))).toEqual({
      kind: "items",
      items: [{ call_id: "1^2", words: "好好好？>>>" }],
    });
  });

  it("parses a body that is already JSON as is", () => {
    expect(decodeMnsBody('  {"call_id":"1^2"}  ')).toEqual({
      kind: "items",
      items: [{ call_id: "1^2" }],
    });
    expect(decodeMnsBody('[{"call_id":"1^2"}]')).toEqual({
      kind: "items",
      items: [{ call_id: "1^2" }],
    });
  });

  it.each([
    ["", "MNS message body is empty"],
    ["%%% not base64 %%%", "MNS message body is neither JSON nor Base64"],
    [base64("not json"), "MNS message body is not valid JSON"],
    [
      Buffer.from([0xff, 0xfe, 0x00]).toString("base64"),
      "MNS message body is Base64 but not UTF-8 text",
    ],
    [base64('"just a string"'), "MNS message body must be a JSON array or object, got string"],
    ["{broken", "MNS message body is not valid JSON"],
  ])("reports %j as invalid", (body, reason) => {
    const r = decodeMnsBody(body);
    expect(r.kind).toBe("invalid");
    expect(r.kind === "invalid" && r.reason).toContain(reason);
  });
});

describe("inferMessageType", () => {
  it("recognises each documented example", () => {
    expect(inferMessageType(first(VOICE_REPORT_A))).toBe("VoiceReport");
    expect(inferMessageType(first(VOICE_REPORT_B))).toBe("VoiceReport");
    expect(inferMessageType(first(VOICE_CALL_REPORT_OUTBOUND))).toBe("VoiceCallReport");
    expect(inferMessageType(first(VOICE_CALL_REPORT_DTMF))).toBe("VoiceCallReport");
    expect(inferMessageType(first(VOICE_CALL_REPORT_INBOUND))).toBe("VoiceCallReport");
    expect(inferMessageType(first(VOICE_RECORD_REPORT))).toBe("VoiceRecordReport");
  });

  it("recognises an unanswered call's VoiceReport by its empty end_time key", () => {
    expect(inferMessageType({ call_id: "1^2", end_time: "" })).toBe("VoiceReport");
  });

  it("gives null when the fields do not tell", () => {
    expect(inferMessageType({ call_id: "1^2" })).toBeNull();
    expect(inferMessageType({ json: "test-content" })).toBeNull();
    expect(inferMessageType([])).toBeNull();
    expect(inferMessageType("VoiceReport")).toBeNull();
  });
});
