/**
 * deploy/prometheus/alerts.yml with the real promtool: the rules are valid, every alert has a
 * runbook, and the unit scenarios of alerts.test.yml (exactly which alerts fire for which
 * series) pass. Every alert in the rules must be exercised by some scenario.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { TOOLS, missing } from "./tools.js";

const run = promisify(execFile);
const DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../deploy/prometheus");
const skip = missing("promtool");

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(TOOLS.promtool, args, { cwd: DIR });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`,
    );
  }
}

describe.skipIf(skip)("deploy/prometheus/alerts.yml", () => {
  it("passes promtool check rules", async () => {
    expect(await promtool("check", "rules", "alerts.yml")).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("gives every alert a summary and a runbook, and a scenario in alerts.test.yml", async () => {
    const rules = await readFile(join(DIR, "alerts.yml"), "utf8");
    const scenarios = await readFile(join(DIR, "alerts.test.yml"), "utf8");
    const blocks = rules.split(/^\s*- alert: /m).slice(1);
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    for (const block of blocks) {
      const name = block.slice(0, block.indexOf("\n")).trim();
      expect(block, name).toMatch(/\n\s+summary: \S/);
      expect(block, name).toMatch(/\n\s+runbook: \|\n\s+\S/);
      expect(scenarios, `a scenario that fires ${name}`).toContain(`alertname="${name}"`);
    }
  });

  it("fires exactly the expected alerts in every scenario of promtool test rules", async () => {
    expect(await promtool("test", "rules", "alerts.test.yml")).toContain("SUCCESS");
  });
});
