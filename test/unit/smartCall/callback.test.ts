import { describe, expect, it } from "vitest";

import {
  parseCallback,
  queryWithoutToken,
  readCallbackParams,
  type SmartCallTurn,
} from "../../../src/smartcall/callback.js";

// The documentation's request sample (with the typographic quotes fixed).
const CONTENT = {
  role: "B",
  identity: "id2",
  words: "你好",
  begin_offset: "1000",
  end_offset: "9000",
  begin_time: "2017-06-01 10:00:00",
};
const PARAMS = {
  call_id: "100001616500^100001871490",
  timestamp: "1504174341229",
  content_type: "normal",
  content: JSON.stringify(CONTENT),
};

function turnOf(params: Record<string, unknown>): SmartCallTurn {
  const r = parseCallback(params);
  if (!r.ok) {
    throw new Error(r.reason);
  }
  return r.turn;
}

function reasonOf(params: Record<string, unknown>): string {
  const r = parseCallback(params);
  expect(r.ok).toBe(false);
  return r.ok ? "" : r.reason;
}

describe("SmartCall callback parameters", () => {
  it("parses the documented sample", () => {
    const t = turnOf(PARAMS);
    expect(t).toMatchObject({
      callId: "100001616500^100001871490",
      timestampMs: 1504174341229,
      contentType: "normal",
      role: "B",
      identity: "id2",
      words: "你好",
      dtmf: null,
      beginOffsetMs: 1000,
      endOffsetMs: 9000,
      dynamicId: null,
      content: CONTENT,
      params: PARAMS,
    });
    expect(t.turnTime.toISOString()).toBe("2017-08-31T10:12:21.229Z");
  });

  it("reads the same parameters from a form body, a JSON body and the query string", () => {
    const form = new URLSearchParams(PARAMS).toString();
    const viaForm = readCallbackParams({
      contentType: "application/x-www-form-urlencoded",
      body: form,
      query: "",
    });
    const viaJson = readCallbackParams({
      contentType: "application/json",
      body: JSON.stringify(PARAMS),
      query: "",
    });
    const viaQuery = readCallbackParams({ contentType: undefined, body: "", query: form });
    const viaUntypedJson = readCallbackParams({
      contentType: "text/plain",
      body: JSON.stringify(PARAMS),
      query: "",
    });
    for (const r of [viaForm, viaJson, viaQuery, viaUntypedJson]) {
      expect(r).toEqual({ ok: true, params: PARAMS });
    }
  });

  it("lets body parameters win over the query and never keeps the token", () => {
    const r = readCallbackParams({
      contentType: "application/x-www-form-urlencoded",
      body: "call_id=1^2&token=x",
      query: "call_id=9^9&timestamp=1&token=secret",
    });
    expect(r).toEqual({ ok: true, params: { call_id: "1^2", timestamp: "1" } });
    expect(queryWithoutToken("token=secret&a=1")).toBe("a=1");
  });

  it("accepts content as an object in a JSON body, and numbers for numeric strings", () => {
    const t = turnOf({
      call_id: "1^2",
      timestamp: 1504174341229,
      content_type: "dtmf",
      content: { dtmf_digits: 5, dynamic_id: "abc" },
    });
    expect(t).toMatchObject({ dtmf: "5", dynamicId: "abc", role: null, words: null });
  });

  it("takes a 10-digit timestamp as seconds", () => {
    expect(turnOf({ ...PARAMS, timestamp: "1504174341" }).timestampMs).toBe(1504174341000);
  });

  it("stores unreadable optional content fields as null instead of refusing the turn", () => {
    const t = turnOf({
      ...PARAMS,
      content: JSON.stringify({ role: "B", words: "", begin_offset: "soon", extra: { a: 1 } }),
    });
    expect(t).toMatchObject({ words: null, beginOffsetMs: null });
    expect(t.content.extra).toEqual({ a: 1 });
  });

  it("says what is wrong with a malformed callback", () => {
    expect(reasonOf({ ...PARAMS, call_id: undefined })).toBe("call_id is missing");
    expect(reasonOf({ ...PARAMS, call_id: " " })).toBe("call_id is missing");
    expect(reasonOf({ ...PARAMS, timestamp: "yesterday" })).toMatch(/timestamp must be epoch/);
    expect(reasonOf({ ...PARAMS, content_type: "no spaces please" })).toMatch(/content_type/);
    expect(reasonOf({ ...PARAMS, content: "{role: B}" })).toMatch(/content is not valid JSON/);
    expect(reasonOf({ ...PARAMS, content: "[1]" })).toBe("content must be a JSON object");
    expect(reasonOf({ ...PARAMS, content: undefined })).toBe("content is missing");
    expect(reasonOf({ ...PARAMS, content: '{"words":"a\\u0000b"}' })).toMatch(/NUL/);
    expect(
      readCallbackParams({ contentType: "application/json", body: "[1,2]", query: "" }),
    ).toEqual({ ok: false, reason: "a JSON body must be an object of callback parameters" });
    expect(readCallbackParams({ contentType: "application/json", body: "{", query: "" }).ok).toBe(
      false,
    );
    expect(readCallbackParams({ contentType: undefined, body: "__proto__=1", query: "" })).toEqual({
      ok: false,
      reason: 'forbidden parameter name "__proto__"',
    });
  });
});
