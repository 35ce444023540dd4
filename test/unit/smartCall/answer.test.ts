import { describe, expect, it } from "vitest";

import { readWebhookAnswer, successReply } from "../../../src/smartcall/answer.js";

describe("webhook answers", () => {
  it("reads {action, action_code, …} and fills action_code", () => {
    expect(readWebhookAnswer({ action: "play", action_code: "a.wav,b.wav" })).toEqual({
      kind: "answer",
      answer: { action: "play", action_code: "a.wav,b.wav" },
    });
    expect(readWebhookAnswer({ action: "hangup" })).toEqual({
      kind: "answer",
      answer: { action: "hangup", action_code: "" },
    });
  });

  it("reads the platform's own reply shape, and drops call_id and nulls", () => {
    const r = readWebhookAnswer({
      result: "success",
      msg: "成功",
      data: { call_id: "x^y", action: "transfer", number: 13700000000, extend: null, future: "ok" },
    });
    expect(r).toEqual({
      kind: "answer",
      answer: { action: "transfer", action_code: "", number: "13700000000", future: "ok" },
    });
  });

  it("treats a missing or null action as no opinion", () => {
    expect(readWebhookAnswer({})).toEqual({ kind: "none" });
    expect(readWebhookAnswer({ action: null })).toEqual({ kind: "none" });
  });

  it("refuses unknown actions and mistyped fields", () => {
    expect(readWebhookAnswer({ action: "dance" })).toMatchObject({ kind: "invalid" });
    expect(readWebhookAnswer({ action: "play", mute_time: "soon" })).toMatchObject({
      kind: "invalid",
    });
    expect(readWebhookAnswer({ action: "play", nested: { a: 1 } })).toMatchObject({
      kind: "invalid",
    });
    expect(readWebhookAnswer([1])).toMatchObject({ kind: "invalid" });
  });

  it("replies in the documented shape", () => {
    expect(successReply("1^2", { action: "play", action_code: "a.wav" })).toEqual({
      result: "success",
      msg: "成功",
      data: { call_id: "1^2", action: "play", action_code: "a.wav" },
    });
  });
});
