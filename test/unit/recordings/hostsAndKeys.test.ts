/**
 * The fetcher's host allow-list and object keys, over open-ended inputs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { storageKeyOf } from "../../../src/recordings/fetcher.js";
import { createHostPolicy, isPublicAddress } from "../../../src/recordings/hosts.js";
import { assertSafeKey } from "../../../src/recordings/objectStore.js";

describe("host allow-list", () => {
  const policy = createHostPolicy(["aliyuncs.com", "*.aliyuncs.com", "127.0.0.1"]);

  it("matches sub-domains of a wildcard and exact names, nothing that merely ends alike", () => {
    expect(policy.match("alicom-vms-record.oss-cn-hangzhou.aliyuncs.com")).toBe("wildcard");
    expect(policy.match("ALIYUNCS.COM.")).toBe("exact");
    expect(policy.match("127.0.0.1")).toBe("exact");
    for (const bad of [
      "evilaliyuncs.com",
      "aliyuncs.com.evil.net",
      "localhost",
      "127.0.0.2",
      "[::1]",
    ]) {
      expect(policy.match(bad), bad).toBeUndefined();
    }
  });

  it("never allows a host outside the listed domains", () => {
    fc.assert(
      fc.property(fc.domain(), (host) => {
        const allowed = host === "aliyuncs.com" || host.endsWith(".aliyuncs.com");
        expect(policy.match(host) !== undefined).toBe(allowed);
      }),
    );
  });

  it("treats loopback, private, link-local and mapped addresses as internal", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ["47.96.1.1", "8.8.8.8", "2400:3200::1"]) {
      expect(isPublicAddress(a), a).toBe(true);
    }
  });
});

describe("storage keys", () => {
  const day = new Date("2026-12-01T23:59:59Z");

  it("are the same for every signature of one recording and safe for any call id", () => {
    fc.assert(
      fc.property(fc.string(), fc.webPath(), fc.string(), fc.string(), (callId, path, q1, q2) => {
        const base = `https://b.oss-cn-hangzhou.aliyuncs.com${path}`;
        const k1 = storageKeyOf({ callId, recordFile: `${base}?${q1}`, day });
        const k2 = storageKeyOf({ callId, recordFile: `${base}?${q2}`, day });
        expect(k1).toBe(k2);
        expect(k1.startsWith("2026/12/01/")).toBe(true);
        expect(() => assertSafeKey(k1)).not.toThrow();
      }),
    );
  });

  it("differ for two recordings of one call", () => {
    const a = storageKeyOf({ callId: "1^2", recordFile: "http://h/a.wav?Expires=1", day });
    const b = storageKeyOf({ callId: "1^2", recordFile: "http://h/b.wav?Expires=1", day });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^2026\/12\/01\/1_2-[0-9a-f]{10}\.wav$/);
  });

  it("refuses keys that climb out of the store", () => {
    for (const k of ["../etc/passwd", "a/../../b", "/abs", "a//b", ""]) {
      expect(() => assertSafeKey(k), k).toThrow();
    }
  });
});
