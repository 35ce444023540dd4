import { describe, expect, it } from "vitest";

import { JsonDocumentReader, JsonSyntaxError } from "../../../src/replay/jsonStream.js";

/** Feeds `text` in pieces of `size` characters and collects every value. */
function readAll(text: string, size = text.length) {
  const reader = new JsonDocumentReader();
  const out = [];
  for (let i = 0; i < text.length; i += size) {
    out.push(...reader.write(text.slice(i, i + size)));
  }
  out.push(...reader.end());
  return out;
}

const ARRAY = `[
  {"call_id": "1^1", "duration": 10},
  {
    "call_id": "1^2",
    "status_msg": "用户听完语音"
  },
  3, "x", null,
  [ {"nested": true} ]
]
`;

describe("JsonDocumentReader", () => {
  it("gives the elements of a top-level array with the line each starts on", () => {
    expect(readAll(ARRAY)).toEqual([
      { value: { call_id: "1^1", duration: 10 }, line: 2 },
      { value: { call_id: "1^2", status_msg: "用户听完语音" }, line: 3 },
      { value: 3, line: 7 },
      { value: "x", line: 7 },
      { value: null, line: 7 },
      { value: [{ nested: true }], line: 8 },
    ]);
  });

  it("gives the same values and lines however the text is split", () => {
    const whole = readAll(ARRAY);
    for (const size of [1, 2, 7, 64]) {
      expect(readAll(ARRAY, size)).toEqual(whole);
    }
  });

  it("reads concatenated top-level values and a single object", () => {
    expect(readAll('{"a":1}\n{"b":2} [3]\n')).toEqual([
      { value: { a: 1 }, line: 1 },
      { value: { b: 2 }, line: 2 },
      { value: 3, line: 2 },
    ]);
  });

  it("skips a byte-order mark and an empty array", () => {
    expect(readAll("\uFEFF[]\n")).toEqual([]);
    expect(readAll("")).toEqual([]);
  });

  it("reports a syntax error with its line, after the values before it", () => {
    const reader = new JsonDocumentReader();
    const got = reader.write('[\n{"a":1},\n{"b":}\n');
    expect(got).toEqual([{ value: { a: 1 }, line: 2 }]);
    expect.assertions(3);
    try {
      reader.write("]");
      reader.end();
    } catch (err) {
      expect(err).toBeInstanceOf(JsonSyntaxError);
      expect((err as JsonSyntaxError).line).toBe(3);
    }
  });

  it("reports text cut short at the end", () => {
    const reader = new JsonDocumentReader();
    expect(reader.write('[{"a":1},\n{"b"')).toEqual([{ value: { a: 1 }, line: 1 }]);
    expect(() => reader.end()).toThrow(JsonSyntaxError);
  });

  it("keeps __proto__ as an own property, like JSON.parse", () => {
    const [v] = readAll('[{"__proto__": {"x": 1}, "call_id": "1^2"}]');
    expect(Object.getPrototypeOf(v?.value)).toBe(Object.prototype);
    expect(Object.keys(v?.value as object)).toEqual(["__proto__", "call_id"]);
  });
});
