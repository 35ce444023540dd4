import { Writable } from "node:stream";

import { describe, expect, it } from "vitest";

import { describeConfig, loadConfig } from "../../src/config/index.js";
import { createLogger, maskNumber } from "../../src/logger.js";

function capture(redactNumbers: boolean, secrets: string[] = []) {
  let out = "";
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: "info", redactNumbers, destination, secrets });
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

  it("logs errors with their stack and cause, and scrubs secrets from message, stack and cause", () => {
    const pushToken = "push-token-0123456789";
    const accessKeySecret = "AkSecret/abcdefghijklmnop";
    const { logger, out } = capture(false, [pushToken, accessKeySecret]);
    const cause = new Error(
      `connect ECONNREFUSED while signing with ${accessKeySecret} for redis://u:hunter22@cache:6379`,
    );
    const err = new Error(
      `POST https://vms.example/push?token=${pushToken}&x=1 failed; SecurityToken=sts-CAIS0123`,
      { cause },
    );
    logger.error({ err }, "push refused: storage unavailable");
    const line = JSON.parse(out()) as { err: { message: string; stack: string; type: string } };
    for (const secret of [pushToken, accessKeySecret, "hunter22", "sts-CAIS0123"]) {
      expect(out()).not.toContain(secret);
    }
    // The serializer still gives the type, the stack and the cause (why storage is down).
    expect(line.err.type).toBe("Error");
    expect(line.err.stack).toContain("logger.test.ts");
    expect(out()).toContain("ECONNREFUSED");
    expect(line.err.message).toContain("token=[redacted]");
  });

  it("scrubs a known secret wherever it sits in an error's own fields", () => {
    const secret = "webhook-secret-zzzzzz";
    const { logger, out } = capture(false, [secret]);
    const err = Object.assign(new Error("upstream failed"), { request: { url: `/x/${secret}` } });
    logger.warn({ err }, "x");
    expect(out()).not.toContain(secret);
    expect(out()).toContain("upstream failed");
  });

  it("shows secrets that are not set as unset in the start-up config dump, set ones as [redacted]", () => {
    for (const redactNumbers of [false, true]) {
      const unset = capture(redactNumbers);
      unset.logger.info({ config: describeConfig(loadConfig({})) }, "voice-receipts starting");
      const u = JSON.parse(unset.out()) as {
        config: { accessKeySecret: string; push: { token: string } };
      };
      expect(u.config.accessKeySecret).toBe("unset");
      expect(u.config.push.token).toBe("unset");

      const set = capture(redactNumbers);
      const config = loadConfig({
        VMS_PUSH_TOKEN: "push-token-123456",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI5tExampleKeyId",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: "secret-abcdef-123456",
      });
      set.logger.info({ config: describeConfig(config) }, "voice-receipts starting");
      const v = JSON.parse(set.out()) as typeof u;
      expect(v.config.push.token).toBe("[redacted]");
      expect(v.config.accessKeySecret).toBe("[redacted]");
      expect(set.out()).not.toContain("push-token-123456");
      expect(set.out()).not.toContain("secret-abcdef-123456");
    }
  });
});
