import { describe, expect, it } from "vitest";

import { ConfigError } from "../../src/errors.js";
import { describeConfig, loadConfig } from "../../src/config/index.js";

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

  it("reads VMS_ADMIN_TOKEN as a secret that is off by default and must differ from the push token", () => {
    expect(loadConfig({}).adminToken).toBeUndefined();
    const token = "admin-token-never-logged";
    const c = loadConfig({ VMS_ADMIN_TOKEN: token, VMS_PUSH_TOKEN: "push-token" });
    expect(c.adminToken).toBe(token);
    expect(JSON.stringify(describeConfig(c))).not.toContain(token);
    const err = errorOf({ VMS_ADMIN_TOKEN: token, VMS_PUSH_TOKEN: token });
    expect(err.message).toContain("VMS_ADMIN_TOKEN: must differ from VMS_PUSH_TOKEN");
    expect(err.message).not.toContain(token);
  });

  it("reads VMS_METRICS_PORT (unset by default) as a port", () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ VMS_METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(errorOf({ VMS_METRICS_PORT: "70000" }).message).toContain("VMS_METRICS_PORT");
  });

  it("treats empty variables as unset", () => {
    const c = loadConfig({ VMS_RECONCILE_QPS: "", VMS_PUSH_TOKEN: "  " });
    expect(c.reconcile.qps).toBe(50);
    expect(c.push.token).toBeUndefined();
  });
});

describe("loadConfig: Redis Cluster", () => {
  it("uses a single Redis unless REDIS_URL names several nodes or REDIS_CLUSTER=on", () => {
    expect(loadConfig({}).redisCluster).toBe(false);
    const several = loadConfig({ REDIS_URL: "redis://10.0.0.1:7000, redis://10.0.0.2:7000" });
    expect(several.redisCluster).toBe(true);
    expect(several.redisUrl).toBe("redis://10.0.0.1:7000, redis://10.0.0.2:7000");
    expect(
      loadConfig({ REDIS_URL: "redis://10.0.0.1:7000", REDIS_CLUSTER: "on" }).redisCluster,
    ).toBe(true);
  });

  it("refuses a queue prefix without a {hash tag} on a cluster, naming VMS_QUEUE_PREFIX", () => {
    for (const prefix of ["vr", "{}vr", "vr{", "vr{}x{y}"]) {
      const err = errorOf({ REDIS_CLUSTER: "on", VMS_QUEUE_PREFIX: prefix });
      expect(err.message, prefix).toContain("VMS_QUEUE_PREFIX");
      expect(err.message).toContain("hash tag");
    }
    expect(loadConfig({ REDIS_CLUSTER: "on", VMS_QUEUE_PREFIX: "app{vr}" }).queuePrefix).toBe(
      "app{vr}",
    );
    // A single Redis has no slots: any prefix will do.
    expect(loadConfig({ VMS_QUEUE_PREFIX: "vr" }).queuePrefix).toBe("vr");
  });

  it("rejects a node that is not a redis URL, and several nodes with REDIS_CLUSTER=off", () => {
    expect(errorOf({ REDIS_URL: "redis://a:1,http://b:2" }).message).toContain("REDIS_URL");
    expect(errorOf({ REDIS_URL: "redis://a:1,redis://b:2", REDIS_CLUSTER: "off" }).message).toMatch(
      /REDIS_URL: several nodes/,
    );
  });

  it("keeps every node's password out of the loggable description", () => {
    const c = loadConfig({ REDIS_URL: "redis://:pw-one@a:1,redis://:pw-two@b:2" });
    const described = JSON.stringify(describeConfig(c));
    expect(described).not.toContain("pw-one");
    expect(described).not.toContain("pw-two");
    expect(described).toContain("redis://:***@a:1");
  });
});

describe("loadConfig: VMS_RECONCILE_POLICY", () => {
  it("defaults to all and reads incomplete and sample rates", () => {
    expect(loadConfig({}).reconcile.policy).toEqual({ kind: "all" });
    const policy = (v: string) => loadConfig({ VMS_RECONCILE_POLICY: v }).reconcile.policy;
    expect(policy("incomplete")).toEqual({ kind: "incomplete" });
    expect(policy(" Incomplete ")).toEqual({ kind: "incomplete" });
    expect(policy("sample:0.1")).toEqual({ kind: "sample", rate: 0.1 });
    expect(policy("0.25")).toEqual({ kind: "sample", rate: 0.25 });
    expect(policy(".5")).toEqual({ kind: "sample", rate: 0.5 });
    expect(policy("1")).toEqual({ kind: "all" });
  });

  it("names the variable for anything else, including rates of 0 or above 1", () => {
    for (const v of ["some", "sample:", "sample:0", "0", "1.5", "sample:-0.1", "10%"]) {
      const err = errorOf({ VMS_RECONCILE_POLICY: v });
      expect(err.message, v).toContain("VMS_RECONCILE_POLICY");
      expect(err.message).toContain("all, incomplete, or a sample rate");
    }
  });
});
