import { describe, expect, it } from "vitest";

import { ConfigError } from "../../../src/errors.js";
import {
  findReport,
  parseDateOption,
  REPORT_NAMES,
  reportParams,
} from "../../../src/report/reports.js";

describe("findReport", () => {
  it("knows the reports of the contract and the telephony ones", () => {
    expect(REPORT_NAMES).toEqual([
      "daily",
      "hourly",
      "status",
      "outcomes",
      "numbers",
      "out-id",
      "robot-tasks",
      "reconcile",
      "dtmf",
      "recordings",
    ]);
  });

  it("refuses an unknown name with a usage error listing the names", () => {
    expect(() => findReport("weekly")).toThrow(ConfigError);
    expect(() => findReport("weekly")).toThrow(
      /unknown report "weekly".*daily, hourly, status, outcomes, numbers, out-id <out_id>, robot-tasks, reconcile, dtmf/,
    );
  });
});

describe("parseDateOption", () => {
  it("accepts real Beijing dates and nothing else", () => {
    expect(parseDateOption("--from", undefined)).toBeNull();
    expect(parseDateOption("--from", "2026-11-20")).toBe("2026-11-20");
    expect(parseDateOption("--to", "2024-02-29")).toBe("2024-02-29");
    for (const bad of [
      "2026-02-30",
      "2026-13-01",
      "20261120",
      "2026-11-20T00:00",
      "today",
      " 2026-11-20",
    ]) {
      expect(() => parseDateOption("--to", bad)).toThrow(ConfigError);
    }
    expect(() => parseDateOption("--from", "2026-02-30")).toThrow(
      /--from must be a date YYYY-MM-DD/,
    );
  });
});

describe("reportParams", () => {
  it("needs the out_id for out-id and refuses an argument elsewhere", () => {
    expect(reportParams(findReport("out-id"), "order-1", {})).toEqual({
      from: null,
      to: null,
      arg: "order-1",
      direction: null,
      product: null,
    });
    expect(() => reportParams(findReport("out-id"), undefined, {})).toThrow(/needs an argument/);
    expect(() => reportParams(findReport("daily"), "x", {})).toThrow(/takes no argument/);
  });

  it("refuses --from after --to", () => {
    expect(() =>
      reportParams(findReport("daily"), undefined, { from: "2026-11-21", to: "2026-11-20" }),
    ).toThrow(/--from 2026-11-21 is after --to 2026-11-20/);
    expect(
      reportParams(findReport("daily"), undefined, { from: "2026-11-20", to: "2026-11-20" }),
    ).toEqual({ from: "2026-11-20", to: "2026-11-20", arg: null, direction: null, product: null });
  });

  it("takes --direction and --product where they mean something, and only known values", () => {
    expect(
      reportParams(findReport("status"), undefined, { direction: "inbound", product: "inbound" }),
    ).toMatchObject({ direction: "inbound", product: "inbound" });
    expect(reportParams(findReport("numbers"), undefined, { product: "robot" })).toMatchObject({
      product: "robot",
    });
    expect(() => reportParams(findReport("numbers"), undefined, { direction: "inbound" })).toThrow(
      /numbers does not take --direction/,
    );
    expect(() => reportParams(findReport("out-id"), "x", { product: "ivr" })).toThrow(
      /out-id does not take --product/,
    );
    expect(() => reportParams(findReport("daily"), undefined, { direction: "Inbound" })).toThrow(
      ConfigError,
    );
    expect(() => reportParams(findReport("daily"), undefined, { product: "sms" })).toThrow(
      /--product must be one of notification, verification, ivr, smart, robot, inbound, got "sms"/,
    );
  });
});
