import { describe, expect, it, vi } from "vitest";

import { SimClock, beijingDay, formatBeijing, parseBeijing } from "../../../src/simulator/clock.js";

describe("Beijing time", () => {
  it("formats an instant as yyyy-MM-dd HH:mm:ss in UTC+8 and parses it back", () => {
    const instant = Date.UTC(2023, 6, 4, 14, 9, 12); // 22:09:12 in Beijing
    expect(formatBeijing(instant)).toBe("2023-07-04 22:09:12");
    expect(parseBeijing("2023-07-04 22:09:12")).toBe(instant);
    expect(parseBeijing("2023-07-04T22:09:12")).toBeUndefined();
  });

  it("puts 17:00 UTC on the next Beijing day", () => {
    expect(beijingDay(Date.UTC(2023, 6, 4, 17, 0, 0))).toBe("2023-07-05");
  });
});

describe("simulated clock", () => {
  it("moves forward on advance and tells its listeners", () => {
    const clock = new SimClock();
    const listener = vi.fn();
    clock.onAdvance(listener);
    const before = clock.now();
    clock.advance(60_000);
    expect(clock.now() - before).toBeGreaterThanOrEqual(60_000);
    expect(listener).toHaveBeenCalledOnce();
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
