/**
 * A real Prometheus server for one test file: scrapes the given targets every second on loopback,
 * keeps its TSDB in a temporary directory, and is stopped by its pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { freePort } from "../../helpers/servers.js";
import { waitFor } from "../../helpers/waitFor.js";
import { TOOLS } from "./tools.js";

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface TestPrometheus {
  url: string;
  /** An instant query through the HTTP API; throws on a query error. */
  query(expr: string): Promise<PromSeries[]>;
  labelValues(label: string, match: string): Promise<string[]>;
  stop(): Promise<void>;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") {
    throw new Error(`Prometheus: ${body.error ?? res.status} for ${url}`);
  }
  return body.data;
}

/** `targets`: host:port of each /metrics endpoint, scraped as job "voice-receipts". */
export async function startPrometheus(targets: string[]): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "vr-prometheus-"));
  const port = await freePort();
  const config = join(dir, "prometheus.yml");
  await writeFile(
    config,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: voice-receipts",
      `    static_configs: [{ targets: ${JSON.stringify(targets)} }]`,
      "",
    ].join("\n"),
  );
  let output = "";
  const child: ChildProcess = spawn(
    TOOLS.prometheus,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`prometheus exited ${child.exitCode}: ${output}`);
        }
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { timeoutMs: 20_000, what: "prometheus ready" },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromSeries[] }>(
        `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    labelValues: (label, match) =>
      api<string[]>(`${url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(match)}`),
    stop,
  };
}
