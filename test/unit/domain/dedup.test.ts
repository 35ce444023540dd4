import { describe, expect, it } from "vitest";

import {
  canonicalJson,
  DEDUP_KEY_LENGTH,
  DEDUP_KEY_PATTERN,
  recordFileIdentity,
} from "../../../src/domain/dedup.js";
import { normalizeReceipt } from "../../../src/domain/receipt.js";
import {
  first,
  VOICE_CALL_REPORT_DTMF,
  VOICE_CALL_REPORT_INBOUND,
  VOICE_RECORD_REPORT,
  VOICE_REPORT_A,
  VOICE_REPORT_B,
} from "./examples.js";

function keyOf(type: string, raw: unknown): string {
  const r = normalizeReceipt(type, raw);
  if (!r.ok) {
    throw new Error(r.reason);
  }
  return r.receipt.dedupKey;
}

/** The same object with its keys in reverse order. */
function reversed(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).reverse());
}

describe("dedup keys", () => {
  it("are 'r' + 64 lowercase hex chars: fixed length, no ':', never all digits", () => {
    for (const [type, json] of [
      ["VoiceReport", VOICE_REPORT_A],
      ["VoiceCallReport", VOICE_CALL_REPORT_DTMF],
      ["VoiceRecordReport", VOICE_RECORD_REPORT],
      ["Unknown", VOICE_REPORT_B],
    ] as const) {
      const key = keyOf(type, first(json));
      expect(key).toMatch(DEDUP_KEY_PATTERN);
      expect(key).toHaveLength(DEDUP_KEY_LENGTH);
      expect(key).not.toContain(":");
    }
  });

  it("are deterministic", () => {
    expect(keyOf("VoiceReport", first(VOICE_REPORT_B))).toBe(
      keyOf("VoiceReport", first(VOICE_REPORT_B)),
    );
  });

  it("ignore key order", () => {
    for (const [type, json] of [
      ["VoiceReport", VOICE_REPORT_B],
      ["VoiceCallReport", VOICE_CALL_REPORT_INBOUND],
      ["VoiceRecordReport", VOICE_RECORD_REPORT],
      ["SomethingNew", VOICE_REPORT_B],
    ] as const) {
      expect(keyOf(type, reversed(first(json)))).toBe(keyOf(type, first(json)));
    }
  });

  it("give the same key to numbers and numeric strings (MNS vs HTTP)", () => {
    const asStrings = {
      call_id: "1^2",
      status_code: "300000",
      dtmf: "1",
      status_time: "2023-03-06 16:21:12",
    };
    const asNumbers = {
      call_id: "1^2",
      status_code: 300000,
      dtmf: 1,
      status_time: "2023-03-06 16:21:12",
    };
    expect(keyOf("VoiceCallReport", asNumbers)).toBe(keyOf("VoiceCallReport", asStrings));

    const b = first(VOICE_REPORT_B);
    const bStrings = { ...b, a_duration: "22", b_duration: "8", duration: 8 };
    expect(keyOf("SomethingNew", bStrings)).toBe(keyOf("SomethingNew", b));
  });

  it("make one key per call for VoiceReport, whatever else differs", () => {
    const a = { call_id: "1^2", duration: "10", status_code: "200000" };
    expect(keyOf("VoiceReport", { ...a, extra: "later" })).toBe(keyOf("VoiceReport", a));
    expect(keyOf("VoiceReport", { ...a, call_id: "1^3" })).not.toBe(keyOf("VoiceReport", a));
  });

  it("tell apart the states, times and key presses of one call", () => {
    const e = {
      call_id: "1^2",
      status_code: "300000",
      dtmf: "1",
      status_time: "2023-03-06 16:21:12",
    };
    const base = keyOf("VoiceCallReport", e);
    expect(keyOf("VoiceCallReport", { ...e, dtmf: "2" })).not.toBe(base);
    expect(keyOf("VoiceCallReport", { ...e, status_time: "2023-03-06 16:21:13" })).not.toBe(base);
    expect(keyOf("VoiceCallReport", { ...e, status_code: "200100", dtmf: "" })).not.toBe(base);
    expect(keyOf("VoiceCallReport", { ...e, out_id: "different" })).toBe(base);
    expect(keyOf("VoiceCallReport", { ...e, dtmf: "" })).toBe(
      keyOf("VoiceCallReport", { ...e, dtmf: null }),
    );
  });

  it("ignore the signed query string of record_file", () => {
    const rec = first(VOICE_RECORD_REPORT);
    const redelivered = {
      ...rec,
      record_file:
        "http://aliyuncs.com/Free_record.wav?Expires=99999&OSSAccessKeyId=other&Signature=new",
    };
    expect(keyOf("VoiceRecordReport", redelivered)).toBe(keyOf("VoiceRecordReport", rec));
    const other = { ...rec, record_file: "http://aliyuncs.com/Other_record.wav?Expires=1" };
    expect(keyOf("VoiceRecordReport", other)).not.toBe(keyOf("VoiceRecordReport", rec));
    expect(recordFileIdentity("http://h/a.wav?x=1#frag")).toBe("http://h/a.wav");
  });

  it("differ between message types with the same body", () => {
    const body = first(VOICE_REPORT_B);
    expect(keyOf("SomethingNew", body)).not.toBe(keyOf("SomethingElse", body));
    expect(keyOf("SomethingNew", body)).not.toBe(keyOf("VoiceReport", body));
  });

  it("treat empty strings like absent fields for unknown types", () => {
    expect(keyOf("X", { a: "1", b: "" })).toBe(keyOf("X", { a: "1" }));
    expect(keyOf("X", { a: "1", b: null })).toBe(keyOf("X", { a: "1" }));
    expect(keyOf("X", { a: "1", b: "2" })).not.toBe(keyOf("X", { a: "1" }));
  });
});

describe("canonicalJson", () => {
  it("sorts keys recursively and canonicalises numbers", () => {
    expect(canonicalJson({ b: { y: 1, x: "2.50" }, a: [3, "3.0", "", null] })).toBe(
      '{"a":["3","3",null,null],"b":{"x":"2.5","y":"1"}}',
    );
  });

  it("keeps leading zeros and non-numeric strings significant", () => {
    expect(canonicalJson({ a: "007" })).not.toBe(canonicalJson({ a: 7 }));
    expect(canonicalJson({ a: "1e3" })).not.toBe(canonicalJson({ a: 1000 }));
    expect(canonicalJson({ a: "你好" })).toBe('{"a":"你好"}');
  });

  it("does not confuse an object with an array of pairs", () => {
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson([["a", 1]]));
  });

  it("encodes a __proto__ key as data", () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":"1"}}');
  });
});
