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

/** Children still running; killed if the bench exits for any reason (failure, Ctrl-C). */
const live = new Set<ChildProcess>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) {
    return;
  }
  exitHooked = true;
  process.on("exit", () => {
    for (const c of live) {
      c.kill("SIGKILL");
    }
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => process.exit(130));
  }
}

export interface ChildOptions {
  /** A line matching this means the child is ready; group 1, when present, is its URL. */
  ready?: RegExp;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]. */
  nodeArgs?: string[];
}

/**
 * Start a child (node --import tsx) and wait until it prints its ready line: by default a JSON
 * line with `url` (bare server, or the daemon's "http server listening").
 */
export async function startChild(
  args: string[],
  env: Record<string, string>,
  opts: ChildOptions = {},
): Promise<{ url: string; child: ChildProcess; readyAt: number; stop(): Promise<void> }> {
  hookExit();
  const ready = opts.ready ?? /"url":"(http:\/\/[^"]+)"/;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), "--import", "tsx", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached: false,
  });
  live.add(child);
  child.on("exit", () => live.delete(child));
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start:\n${out}`));
    }, 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      // Keep only the start of the output: the daemon may log a line per push afterwards.
      if (out.length < 100_000) {
        out += d.toString();
      }
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? "");
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited ${code}:\n${out}`));
    });
  });
  const readyAt = performance.now();
  return {
    url,
    child,
    readyAt,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.removeAllListeners("exit");
        // A child that does not stop in time is killed: the bench must stay bounded.
        const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.on("exit", () => {
          clearTimeout(kill);
          live.delete(child);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/**
 * Node flags for the product's child: a CPU profile when BENCH_CPU_PROF=<dir> is set, plus any
 * flags in BENCH_NODE_ARGS (e.g. "--max-semi-space-size=32" to try V8 settings).
 */
export function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  return [...(dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : []), ...extra];
}
