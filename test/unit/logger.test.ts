import { Writable } from "node:stream";

import { describe, expect, it } from "vitest";

import { createLogger, maskNumber } from "../../src/logger.js";

function capture(redactNumbers: boolean) {
  let out = "";
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: "info", redactNumbers, destination });
  return { logger, out: () => out };
}

describe("logger", () => {
  it("redacts secrets wherever they appear in the first three levels", () => {
    const { logger, out } = capture(false);
    logger.info(
      {
        accessKeySecret: "s1",
        creds: { SecurityToken: "s2", nested: { token: "s3" } },
        headers: { "x-push-token": "s4", authorization: "s5" },
      },
      "line",
    );
    for (const s of ["s1", "s2", "s3", "s4", "s5"]) {
      expect(out()).not.toContain(`"${s}"`);
    }
    expect(out()).toContain("[redacted]");
  });

  it("keeps phone numbers unless LOG_REDACT_NUMBERS is on, then keeps only their last four digits", () => {
    const plain = capture(false);
    plain.logger.info({ call: { callee: "13812345678" } }, "x");
    expect(plain.out()).toContain("13812345678");
    const masked = capture(true);
    masked.logger.info(
      { call: { callee: "13812345678", caller: "0571" }, accessKeySecret: "zz" },
      "x",
    );
    expect(masked.out()).not.toContain("13812345678");
    expect(masked.out()).toContain(maskNumber("13812345678"));
    expect(maskNumber("13812345678")).toBe("*******5678");
    expect(masked.out()).toContain('"caller":"****"');
    expect(masked.out()).not.toContain('"zz"');
  });
});
