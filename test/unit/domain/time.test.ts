import { describe, expect, it } from "vitest";

import {
  beijingDay,
  formatBeijingDate,
  formatBeijingTime,
  nextBeijingDay,
  parseBeijingDate,
  parseBeijingTime,
} from "../../../src/domain/time.js";

function parsed(text: string): Date {
  const r = parseBeijingTime(text);
  if (!r.ok) {
    throw new Error(r.reason);
  }
  return r.value;
}

describe("parseBeijingTime", () => {
  it("reads Alibaba times as Asia/Shanghai (UTC+8)", () => {
    expect(parsed("2021-04-28 10:02:40").toISOString()).toBe("2021-04-28T02:02:40.000Z");
  });

  it("moves early-morning Beijing times to the previous UTC day", () => {
    expect(parsed("2023-03-06 00:47:10").toISOString()).toBe("2023-03-05T16:47:10.000Z");
  });

  it("handles leap days and year ends", () => {
    expect(parsed("2024-02-29 23:59:59").toISOString()).toBe("2024-02-29T15:59:59.000Z");
    expect(parsed("2024-01-01 07:59:59").toISOString()).toBe("2023-12-31T23:59:59.000Z");
  });

  it("ignores surrounding whitespace", () => {
    expect(parsed("  2021-04-28 10:02:40\n").toISOString()).toBe("2021-04-28T02:02:40.000Z");
  });

  it.each([
    ["2023-02-30 10:00:00", "day 30 does not exist in 2023-02"],
    ["2023-02-29 10:00:00", "day 29 does not exist in 2023-02"],
    ["2023-13-01 10:00:00", "month 13 does not exist"],
    ["2023-00-10 10:00:00", "month 0 does not exist"],
    ["2023-01-01 24:00:00", "out of range"],
    ["2023-01-01 23:60:00", "out of range"],
    ["2023-01-01 23:59:60", "out of range"],
  ])("rejects the impossible date %s", (text, reason) => {
    const r = parseBeijingTime(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it.each([
    "2021-04-28T10:02:40",
    "2021-04-28 10:02:40Z",
    "2021-04-28 10:02:40.123",
    "2021-4-28 10:02:40",
    "2021/04/28 10:02:40",
    "2021-04-28",
    "1619575360000",
    "",
    "yesterday",
  ])("rejects the other format %j with a typed failure", (text) => {
    const r = parseBeijingTime(text);
    expect(r).toEqual({ ok: false, reason: "expected yyyy-MM-dd HH:mm:ss" });
  });

  it("does not treat years below 100 as 19xx", () => {
    expect(parsed("0099-01-01 08:00:00").getUTCFullYear()).toBe(99);
  });
});

describe("formatBeijingTime", () => {
  it("writes an instant back in Beijing wall-clock form", () => {
    expect(formatBeijingTime(new Date("2021-04-28T02:02:40.000Z"))).toBe("2021-04-28 10:02:40");
    expect(formatBeijingTime(new Date("2023-12-31T16:00:00.000Z"))).toBe("2024-01-01 00:00:00");
  });

  it("round-trips every parsed time", () => {
    for (const text of ["2021-04-28 10:02:40", "2024-02-29 00:00:00", "1999-12-31 23:59:59"]) {
      expect(formatBeijingTime(parsed(text))).toBe(text);
    }
  });

  it("throws on an invalid Date", () => {
    expect(() => formatBeijingTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("Beijing days", () => {
  it("gives the start of the Beijing day in epoch ms", () => {
    // 2021-04-27T20:00Z is already 2021-04-28 04:00 in Beijing.
    const day = beijingDay(new Date("2021-04-27T20:00:00.000Z"));
    expect(new Date(day).toISOString()).toBe("2021-04-27T16:00:00.000Z");
    expect(day).toBe(parsed("2021-04-28 00:00:00").getTime());
  });

  it("keeps the last second of a Beijing day on that day", () => {
    const t = parsed("2021-04-28 23:59:59");
    expect(beijingDay(t)).toBe(parsed("2021-04-28 00:00:00").getTime());
    expect(nextBeijingDay(t)).toBe(parsed("2021-04-29 00:00:00").getTime());
    expect(formatBeijingDate(t)).toBe("2021-04-28");
  });

  it("parses a Beijing calendar day strictly", () => {
    const r = parseBeijingDate("2021-04-28");
    expect(r.ok && r.value.toISOString()).toBe("2021-04-27T16:00:00.000Z");
    expect(parseBeijingDate("2021-02-29").ok).toBe(false);
    expect(parseBeijingDate("2021-04-28 00:00:00").ok).toBe(false);
  });
});
