import { describe, expect, it } from "vitest";

import { unstorableJson } from "../../src/pipeline/intake.js";

describe("unstorableJson", () => {
  it("flags NUL characters and lone surrogates, which jsonb refuses", () => {
    expect(unstorableJson(JSON.stringify({ a: "x\u0000y" }))).toMatch(/NUL/);
    expect(unstorableJson(JSON.stringify({ a: "bad \ud800 here" }))).toMatch(
      /lone UTF-16 surrogate \(\\ud800\)/,
    );
    expect(unstorableJson(JSON.stringify({ a: "\udc00" }))).toMatch(/surrogate/);
    expect(unstorableJson(JSON.stringify({ "\ud83d": 1 }))).toMatch(/surrogate/);
  });

  it("accepts real text: Chinese, emoji (a valid surrogate pair) and the literal text \\u0000", () => {
    expect(unstorableJson(JSON.stringify({ msg: "用户听完语音", e: "😀" }))).toBeNull();
    expect(unstorableJson(JSON.stringify({ a: "\\u0000 and \\ud800 as plain text" }))).toBeNull();
    expect(unstorableJson(JSON.stringify({ a: "\\\\\u0000" }))).toMatch(/NUL/);
  });
});
