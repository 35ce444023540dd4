/**
 * A small HTTP load generator on undici: closed-loop maximum rate, and an open-model run at a
 * fixed arrival rate for latency percentiles (arrivals do not wait for earlier answers).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

import { Pool } from "undici";

export interface LoadResult {
  requests: number;
  non2xx: number;
  seconds: number;
  latenciesMs: number[];
}

export async function closedLoop(
  url: string,
  path: string,
  bodies: string[],
  opts: { connections: number; seconds: number },
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: opts.connections, pipelining: 1 });
  const deadline = Date.now() + opts.seconds * 1000;
  let next = 0;
  let requests = 0;
  let non2xx = 0;
  const latenciesMs: number[] = [];
  const started = Date.now();
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (Date.now() < deadline) {
        const body = bodies[next++ % bodies.length] as string;
        const t0 = performance.now();
        const res = await pool.request({
          method: "POST",
          path,
          body,
          headers: { "content-type": "application/json" },
        });
        await res.body.dump();
        latenciesMs.push(performance.now() - t0);
        requests++;
        if (res.statusCode !== 200) {
          non2xx++;
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  await pool.close();
  return { requests, non2xx, seconds, latenciesMs };
}

export async function openModel(
  url: string,
  path: string,
  bodies: string[],
  opts: { ratePerSecond: number; seconds: number; offset?: number },
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: 64, pipelining: 1 });
  const total = Math.round(opts.ratePerSecond * opts.seconds);
  const latenciesMs: number[] = [];
  let non2xx = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / opts.ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) {
      await new Promise((r) => setTimeout(r, wait));
    }
    const body = bodies[((opts.offset ?? 0) + i) % bodies.length] as string;
    inflight.push(
      (async () => {
        // Latency counts from the scheduled arrival, so queueing in the client is included.
        const res = await pool.request({
          method: "POST",
          path,
          body,
          headers: { "content-type": "application/json" },
        });
        await res.body.dump();
        latenciesMs.push(performance.now() - due);
        if (res.statusCode !== 200) {
          non2xx++;
        }
      })(),
    );
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: total, non2xx, seconds, latenciesMs };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Start a child that prints a JSON line with `url` (bare server) or a pino line with `url`. */
export async function startChild(
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached: false,
  });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start:\n${out}`));
    }, 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      // Keep only the start of the output: the daemon logs a line per push afterwards.
      if (out.length < 100_000) {
        out += d.toString();
      }
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}:\n${out}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners("exit");
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
