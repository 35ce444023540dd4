import { describe, expect, it } from "vitest";

import { describeConfig, loadConfig } from "../../../src/config/index.js";
import { ConfigError } from "../../../src/errors.js";

describe("smart-call configuration", () => {
  it("answers within 800 ms by default", () => {
    expect(loadConfig({}).smartCall).toEqual({
      forwardUrl: undefined,
      rulesPath: undefined,
      defaultAction: "continue",
      deadlineMs: 800,
    });
    expect(loadConfig({ VMS_SMART_CALL_DEADLINE_MS: "300" }).smartCall.deadlineMs).toBe(300);
  });

  it("names VMS_SMART_CALL_DEADLINE_MS when it is not a sensible number", () => {
    for (const bad of ["abc", "10", "60000"]) {
      expect(() => loadConfig({ VMS_SMART_CALL_DEADLINE_MS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ VMS_SMART_CALL_DEADLINE_MS: bad })).toThrow(
        /VMS_SMART_CALL_DEADLINE_MS: must be a whole number from 50 to 10000/,
      );
    }
  });

  it("never prints a credential of the webhook URL", () => {
    const config = loadConfig({
      VMS_SMART_CALL_FORWARD_URL: "https://bot:s3cret@example.com/next?token=abc",
    });
    const described = JSON.stringify(describeConfig(config));
    expect(described).not.toContain("s3cret");
    expect(described).not.toContain("abc");
    expect(described).toContain("example.com/next");
  });
});
