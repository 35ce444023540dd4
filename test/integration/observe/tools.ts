/**
 * The outside programs the observe tests drive (Debian packages: `prometheus` gives prometheus
 * and promtool, `chromium` the browser; .ci/run installs them). Without them the tests are
 * skipped with a message saying what to install — unless VR_REQUIRE_OBSERVE_TOOLS=1 (set by
 * .ci/run), where a missing program fails the run instead of hiding it.
 */
import { accessSync, constants } from "node:fs";

export const TOOLS = {
  chromium: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  prometheus: process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus",
  promtool: process.env.PROMTOOL_PATH ?? "/usr/bin/promtool",
} as const;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when the tool is missing and the test should be skipped (after saying why). */
export function missing(tool: keyof typeof TOOLS): boolean {
  const path = TOOLS[tool];
  if (executable(path)) {
    return false;
  }
  const message = `${tool} not found at ${path}: install the Debian package (${
    tool === "chromium" ? "chromium" : "prometheus"
  }) or run .ci/run, which does`;
  if (process.env.VR_REQUIRE_OBSERVE_TOOLS === "1") {
    throw new Error(message);
  }
  console.warn(`skipping: ${message}`);
  return true;
}
