/**
 * VMS_WEBHOOK_* in the configuration loader: defaults, the per-endpoint file, errors that name
 * the variable and never echo a secret or a URL's credential; event routing by type and out_id
 * prefix.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { describeConfig, loadConfig } from "../../../src/config/index.js";
import {
  endpointWants,
  parseDuration,
  parseRetrySchedule,
} from "../../../src/delivery/endpointsConfig.js";
import { isoBeijing } from "../../../src/domain/outcomeEvents.js";
import { ConfigError } from "../../../src/errors.js";

const SECRET = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;

function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

function file(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "vr-wh-"));
  const p = join(dir, "webhooks.json");
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}

describe("VMS_WEBHOOK_* configuration", () => {
  it("defaults: no endpoints, 15 s timeout, the documented retry schedule", () => {
    const c = loadConfig({});
    expect(c.webhooks.endpoints).toEqual([]);
    expect(c.webhooks.timeoutMs).toBe(15_000);
    expect(c.webhooks.retryScheduleMs).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
  });

  it("reads endpoints from VMS_WEBHOOK_URLS and VMS_WEBHOOK_CONFIG; dialogue.turn is opt-in", () => {
    const path = file({
      endpoints: [
        { url: "https://b.example/hook", types: ["call.completed", "dialogue.turn"] },
        { url: "https://c.example/hook", secret: SECRET, out_id_prefix: "order-" },
      ],
    });
    const c = loadConfig({
      VMS_WEBHOOK_URLS: "https://a.example/hook",
      VMS_WEBHOOK_SECRET: SECRET,
      VMS_WEBHOOK_CONFIG: path,
    });
    const [a, b, cc] = c.webhooks.endpoints;
    expect(a?.types).not.toContain("dialogue.turn");
    expect(a?.types).toContain("call.completed");
    expect(endpointWants(b!, { type: "dialogue.turn", outId: null })).toBe(true);
    expect(endpointWants(b!, { type: "call.reconciled", outId: null })).toBe(false);
    expect(endpointWants(cc!, { type: "call.completed", outId: "order-1" })).toBe(true);
    expect(endpointWants(cc!, { type: "call.completed", outId: "code-1" })).toBe(false);
    expect(endpointWants(cc!, { type: "call.completed", outId: null })).toBe(false);
  });

  it("names the variable and never echoes a secret or a URL", () => {
    const badSecret = "whsec_not base64 !!";
    const msg = problem({
      VMS_WEBHOOK_URLS: "https://user:pa55word@a.example/hook?token=t0ps3cret,ftp://x",
      VMS_WEBHOOK_SECRET: badSecret,
      VMS_WEBHOOK_TIMEOUT_MS: "0",
      VMS_WEBHOOK_RETRY_SCHEDULE: "0s,5 parsecs",
    });
    expect(msg).toMatch(/VMS_WEBHOOK_SECRET: must be whsec_/);
    expect(msg).toMatch(/VMS_WEBHOOK_URLS: .*entry 2/);
    expect(msg).toMatch(/VMS_WEBHOOK_TIMEOUT_MS/);
    expect(msg).toMatch(/VMS_WEBHOOK_RETRY_SCHEDULE/);
    expect(msg).not.toContain("not base64");
    expect(msg).not.toContain("pa55word");
    expect(msg).not.toContain("t0ps3cret");
    expect(problem({ VMS_WEBHOOK_URLS: "https://a.example/h" })).toMatch(
      /VMS_WEBHOOK_SECRET: must be set when VMS_WEBHOOK_URLS is/,
    );
    expect(problem({ VMS_WEBHOOK_CONFIG: file("{not json") })).toMatch(
      /VMS_WEBHOOK_CONFIG: cannot read .* as JSON/,
    );
    expect(
      problem({ VMS_WEBHOOK_CONFIG: file([{ url: "https://x.example", types: ["nope"] }]) }),
    ).toMatch(/VMS_WEBHOOK_CONFIG: .*types/);
  });

  it("describeConfig shows no secret and no URL credential", () => {
    const c = loadConfig({
      VMS_WEBHOOK_URLS: "https://user:pa55word@a.example/hook?token=t0ps3cret",
      VMS_WEBHOOK_SECRET: SECRET,
    });
    const text = JSON.stringify(describeConfig(c));
    expect(text).not.toContain(SECRET.slice(6));
    expect(text).not.toContain("pa55word");
    expect(text).not.toContain("t0ps3cret");
    expect(text).toContain("https://a.example/hook");
  });

  it("parses durations and schedules; rejects anything else", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.constantFrom("ms", "s", "m", "h", "d"),
        (n, u) => {
          const unit = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[u];
          expect(parseDuration(`${n}${u}`)).toBe(n * unit);
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseRetrySchedule(s);
        if (r.ok) {
          expect(r.value.every((v) => Number.isSafeInteger(v) && v >= 0)).toBe(true);
        } else {
          expect(r.problem).toMatch(/durations/);
        }
      }),
    );
  });

  it("writes times as ISO-8601 with the +08:00 offset, the same instant", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }),
        (d) => {
          const s = isoBeijing(d) as string;
          expect(s).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+08:00$/);
          expect(new Date(s).getTime()).toBe(d.getTime());
        },
      ),
    );
  });
});
