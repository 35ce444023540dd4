import { describe, expect, it } from "vitest";

import {
  coerceDuration,
  coerceInteger,
  coerceText,
  coerceTime,
  isAbsent,
  normalizeHangupDirection,
  numberToDecimal,
} from "../../../src/domain/fields.js";

describe("coerceText", () => {
  it.each([undefined, null, "", "   ", "\t\n"])("treats %j as absent (null)", (v) => {
    expect(coerceText(v, "f")).toEqual({ ok: true, value: null });
    expect(isAbsent(v)).toBe(true);
  });

  it("keeps non-empty strings exactly, Chinese included", () => {
    expect(coerceText("呼叫结束（双呼）", "status_msg")).toEqual({
      ok: true,
      value: "呼叫结束（双呼）",
    });
    expect(coerceText(" 1 ", "dtmf")).toEqual({ ok: true, value: " 1 " });
  });

  it("turns numbers into their decimal text", () => {
    expect(coerceText(200000, "status_code")).toEqual({ ok: true, value: "200000" });
    expect(coerceText(0, "duration")).toEqual({ ok: true, value: "0" });
    expect(coerceText(1.5, "x")).toEqual({ ok: true, value: "1.5" });
    expect(coerceText(1e21, "x")).toEqual({ ok: true, value: "1000000000000000000000" });
  });

  it.each([true, {}, [], Number.NaN])("rejects %j, naming the field", (v) => {
    const r = coerceText(v, "callee");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^field "callee" must be a string or a number/);
  });
});

describe("numberToDecimal", () => {
  it("never uses exponent notation", () => {
    expect(numberToDecimal(1.5e-7)).toBe("0.00000015");
    expect(numberToDecimal(-2.5e-8)).toBe("-0.000000025");
    expect(numberToDecimal(-0)).toBe("0");
  });
});

describe("coerceInteger", () => {
  it.each([
    [10, 10],
    ["10", 10],
    [" 10 ", 10],
    ["+10", 10],
    ["010", 10],
    ["10.0", 10],
    [10.0, 10],
    ["-3", -3],
    ["-0", 0],
    [0, 0],
  ])("accepts %j as %d", (v, n) => {
    expect(coerceInteger(v, "duration")).toEqual({ ok: true, value: n });
  });

  it.each([undefined, null, "", "  "])("treats %j as absent", (v) => {
    expect(coerceInteger(v, "duration")).toEqual({ ok: true, value: null });
  });

  it.each(["abc", "10.5", 10.5, "1e3", "0x1A", "10s", true, [], "9007199254740993"])(
    "rejects %j as not a whole number",
    (v) => {
      const r = coerceInteger(v, "duration");
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/^field "duration" must be a whole number, got /);
    },
  );

  it("enforces a range when asked", () => {
    expect(coerceInteger("5", "x", { min: 6 })).toEqual({
      ok: false,
      reason: 'field "x" must be at least 6, got "5"',
    });
    expect(coerceInteger(7, "x", { max: 6 }).ok).toBe(false);
  });

  it("limits durations to non-negative PostgreSQL integers", () => {
    expect(coerceDuration("-1", "duration").ok).toBe(false);
    expect(coerceDuration(2_147_483_648, "duration").ok).toBe(false);
    expect(coerceDuration(2_147_483_647, "duration")).toEqual({ ok: true, value: 2_147_483_647 });
  });
});

describe("coerceTime", () => {
  it("parses Beijing time and treats empty as absent", () => {
    const r = coerceTime("2021-04-28 10:02:40", "ring_time");
    expect(r.ok && r.value?.toISOString()).toBe("2021-04-28T02:02:40.000Z");
    expect(coerceTime("", "ring_time")).toEqual({ ok: true, value: null });
  });

  it("names the field and the bad value", () => {
    const r = coerceTime("2023-02-30 10:00:00", "end_time");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(
      'field "end_time" is not a valid time: "2023-02-30 10:00:00" (day 30 does not exist in 2023-02)',
    );
  });

  it("rejects numbers (epoch values are not the documented format)", () => {
    expect(coerceTime(1619575360000, "end_time").ok).toBe(false);
  });
});

describe("normalizeHangupDirection", () => {
  it.each([
    ["用户", "user"],
    ["机器", "machine"],
    ["机器人", "machine"],
    ["User", "user"],
    ["MACHINE", "machine"],
    ["aleg", "aleg"],
    ["bleg", "bleg"],
    ["ALeg", "aleg"],
  ])("maps %s to %s", (from, to) => {
    expect(normalizeHangupDirection(from)).toBe(to);
  });

  it("keeps unknown values as they are, and null as null", () => {
    expect(normalizeHangupDirection("对方")).toBe("对方");
    expect(normalizeHangupDirection("constructor")).toBe("constructor");
    expect(normalizeHangupDirection(null)).toBeNull();
  });
});
