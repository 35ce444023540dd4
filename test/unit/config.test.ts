import { describe, expect, it } from "vitest";

import { ConfigError } from "../../src/errors.js";
import { describeConfig, loadConfig } from "../../src/config.js";

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig", () => {
  it("applies the contract's defaults to an empty environment", () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/postgres");
    expect(c.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(c.mns.queues).toEqual([]);
    expect(c.mns.endpoint).toBe("https://1943695596114318.mns.cn-hangzhou.aliyuncs.com");
    expect(c.mns.waitSeconds).toBe(30);
    expect(c.mns.tokenEndpoint).toBe("https://dybaseapi.aliyuncs.com");
    expect(c.apiEndpoint).toBe("https://dyvmsapi.aliyuncs.com");
    expect(c.push).toMatchObject({ host: "0.0.0.0", port: 8080, token: undefined });
    expect(c.reconcile).toMatchObject({
      enabled: false,
      delayMs: 180_000,
      qps: 50,
      prodIds: ["11000000300006", "11010000138001", "11000000300005", "11030000180001"],
      giveUpMs: 24 * 3600 * 1000,
    });
    expect(c.smartCall.defaultAction).toBe("continue");
    expect(c.log.level).toBe("info");
  });

  it("turns reconcile on by default when credentials are set", () => {
    const c = loadConfig({
      ALIBABA_CLOUD_ACCESS_KEY_ID: "id",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s",
    });
    expect(c.reconcile.enabled).toBe(true);
    expect(
      loadConfig({
        ALIBABA_CLOUD_ACCESS_KEY_ID: "id",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s",
        VMS_RECONCILE: "off",
      }).reconcile.enabled,
    ).toBe(false);
  });

  it("names the variable and what is allowed for a non-numeric VMS_RECONCILE_QPS", () => {
    const err = errorOf({ VMS_RECONCILE_QPS: "abc" });
    expect(err.message).toContain("VMS_RECONCILE_QPS");
    expect(err.message).toMatch(/whole number from 1 to 100/);
    expect(err.message).toContain('"abc"');
  });

  it("reports every bad variable at once", () => {
    const err = errorOf({ VMS_MNS_WAIT_SECONDS: "31", VMS_PUSH_PORT: "http", LOG_LEVEL: "loud" });
    expect(err.message).toContain("VMS_MNS_WAIT_SECONDS");
    expect(err.message).toContain("VMS_PUSH_PORT");
    expect(err.message).toContain("LOG_LEVEL");
  });

  it("never echoes a secret in an error or in the loggable description", () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    const err = errorOf({
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
      VMS_PUSH_TOKEN: "push-token-also-secret",
    });
    expect(err.message).not.toContain(secret);
    expect(err.message).toContain("set both or neither");
    const c = loadConfig({
      ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIkey",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
      VMS_PUSH_TOKEN: "push-token-also-secret",
      DATABASE_URL: "postgres://u:dbpassword@db:5432/x",
    });
    const described = JSON.stringify(describeConfig(c));
    expect(described).not.toContain(secret);
    expect(described).not.toContain("push-token-also-secret");
    expect(described).not.toContain("dbpassword");
    expect(described).toContain("LTAIkey");
  });

  it("parses VMS_MNS_QUEUES as MessageType:QueueName pairs and rejects other shapes", () => {
    const c = loadConfig({
      ALIBABA_CLOUD_ACCESS_KEY_ID: "id",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s",
      VMS_MNS_QUEUES:
        "VoiceReport:Alicom-Queue-1-VoiceReport, VoiceCallReport:Alicom-Queue-1-VoiceCallReport",
    });
    expect(c.mns.queues).toEqual([
      { messageType: "VoiceReport", queueName: "Alicom-Queue-1-VoiceReport" },
      { messageType: "VoiceCallReport", queueName: "Alicom-Queue-1-VoiceCallReport" },
    ]);
    expect(errorOf({ VMS_MNS_QUEUES: "VoiceReport" }).message).toContain("VMS_MNS_QUEUES");
  });

  it("requires credentials for MNS consumption", () => {
    expect(errorOf({ VMS_MNS_QUEUES: "VoiceReport:q" }).message).toMatch(
      /VMS_MNS_QUEUES: MNS consumption needs/,
    );
  });

  it("strips a trailing slash from endpoints (the MNS SDK would sign a different path)", () => {
    const c = loadConfig({
      VMS_MNS_ENDPOINT: "http://127.0.0.1:9100/",
      VMS_API_ENDPOINT: "http://127.0.0.1:9100//",
    });
    expect(c.mns.endpoint).toBe("http://127.0.0.1:9100");
    expect(c.apiEndpoint).toBe("http://127.0.0.1:9100");
  });

  it("rejects a database URL of the wrong scheme", () => {
    expect(errorOf({ DATABASE_URL: "mysql://x" }).message).toContain("DATABASE_URL");
  });

  it("treats empty variables as unset", () => {
    const c = loadConfig({ VMS_RECONCILE_QPS: "", VMS_PUSH_TOKEN: "  " });
    expect(c.reconcile.qps).toBe(50);
    expect(c.push.token).toBeUndefined();
  });
});
