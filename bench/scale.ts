/**
 * bench/scale.ts (`npm run bench:scale`) — the end-to-end bench (bench/e2e.ts) with 1, 2 and 4
 * worker processes × 1 and 2 ingest processes against one Redis and one PostgreSQL, each cell
 * printed with the 1 ingester × 1 worker rate of the same run and the ratio; then one run of 4
 * workers reconciling against the simulator's QueryCallDetailByCallId under a quota, checking
 * that the most requests in any sliding second across the 4 processes stays within it.
 *
 *   npm run bench:scale [-- --quick] [--calls 8000] [--qps 50] [--profile /tmp/prof] [--shared-redis]
 *
 * To explain where the curve flattens, /proc is sampled every 200 ms during each cell: CPU
 * seconds by process kind (ingest and worker node processes, the PostgreSQL backends of the
 * cell's database, PostgreSQL's shared processes, redis-server, this process — the simulator and
 * its push client), together with the cell's progress in PostgreSQL, so that CPU is counted
 * over the two windows where the work happens (A: first receipt stored → all stored; B: first
 * receipt applied → all applied), not over start-up. The bench runs its own redis-server (no
 * persistence) so that Redis CPU is the bench's alone; --shared-redis uses REDIS_URL instead.
 * --profile <dir> writes a V8 CPU profile of the daemon processes of one more 1 × 1 cell
 * (summarise with bench/cpuprofile.ts). Results go to bench/results/scale-<time>.json.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

import Table from "cli-table3";
import pg from "pg";

import type { run as E2eRun } from "./e2e.js";

// bench/lib.ts reads REDIS_URL when it is loaded, so e2e and lib are imported in main(), once
// REDIS_URL names the bench's own Redis.
let runE2e: typeof E2eRun;

type Group = "ingest" | "worker" | "pgBackends" | "pgShared" | "redis" | "bench";
type Cpu = Partial<Record<Group, number>>;

interface Tracked {
  pid: number;
  group: Group | null;
  /** For PostgreSQL backends: their database; counted only when it is the cell's. */
  db?: string;
  base: number;
  cpu: number;
}

/** One sample: CPU so far by kind, machine jiffies, and the cell's receipts in PostgreSQL. */
interface Snapshot {
  t: number;
  cpu: Cpu;
  busyJiffies: number;
  allJiffies: number;
  rows: number;
  unapplied: number;
  /** False when the progress query failed (the database is dropped as the cell ends). */
  fresh: boolean;
}

const readText = (p: string) => readFile(p, "utf8").catch(() => "");

/**
 * CPU seconds per process kind from /proc, sampled so that processes which exit before the end
 * (every daemon child of e2e.run) keep their last reading. Processes alive at the first sample
 * count from then; later ones from zero. The cell's database is found in a child's environment.
 */
class CpuSampler {
  private readonly procs = new Map<string, Tracked>();
  private dbName: string | undefined;
  private db: pg.Client | undefined;
  private progress = { rows: 0, unapplied: 0, fresh: false };
  private stopped = false;
  private loop: Promise<void> | undefined;
  readonly history: Snapshot[] = [];

  /** Profile windows signalled so far, per role: 1 = started, 2 = stopped. */
  private readonly signalled = { ingest: 0, worker: 0 };

  /**
   * redis-server is the process with this pid, or the one listening on this port; `profile`:
   * the children carry the PRELOAD below and are told when their window starts and ends.
   */
  constructor(
    private readonly redis: { pid?: number; port: string },
    private readonly profile = false,
  ) {}

  start(): void {
    this.loop = (async () => {
      for (let first = true; !this.stopped; first = false) {
        await this.sample(first);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
  }

  async stop(): Promise<Snapshot[]> {
    this.stopped = true;
    await this.loop;
    await this.db?.end().catch(() => {});
    return this.history;
  }

  private async sample(first: boolean): Promise<void> {
    for (const entry of await readdir("/proc")) {
      const pid = Number(entry);
      const stat = Number.isInteger(pid) ? await readText(`/proc/${pid}/stat`) : "";
      const close = stat.lastIndexOf(")");
      if (close < 0) {
        continue; // not a process, or exited meanwhile
      }
      const f = stat.slice(close + 2).split(" ");
      // After ")": f[1] ppid, f[11] utime, f[12] stime, f[19] starttime (stat fields 4, 14, 15, 22).
      const cpu = (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
      const key = `${pid}:${f[19]}`;
      let t = this.procs.get(key);
      if (!t) {
        const comm = stat.slice(stat.indexOf("(") + 1, close);
        t = { pid, ...(await this.classify(pid, comm, Number(f[1]))), base: first ? cpu : 0, cpu };
        this.procs.set(key, t);
      }
      t.cpu = cpu;
    }
    const cpu: Cpu = {};
    for (const t of this.procs.values()) {
      if (t.group !== null && (t.group !== "pgBackends" || t.db === this.dbName)) {
        cpu[t.group] = (cpu[t.group] ?? 0) + (t.cpu - t.base);
      }
    }
    const j = ((await readText("/proc/stat")).split("\n")[0] ?? "")
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const all = j.reduce((a, v) => a + (v || 0), 0);
    const progress = await this.readProgress();
    this.history.push({
      t: performance.now(),
      cpu,
      busyJiffies: all - (j[3] ?? 0) - (j[4] ?? 0), // less idle and iowait
      allJiffies: all,
      ...progress,
    });
    if (this.profile && progress.fresh) {
      const workers = [...this.procs.values()].some((t) => t.group === "worker");
      this.signal("ingest", progress.rows > 0 ? (workers ? 2 : 1) : 0);
      this.signal(
        "worker",
        progress.unapplied < progress.rows ? (progress.unapplied === 0 ? 2 : 1) : 0,
      );
    }
  }

  /** SIGUSR2 to the live children of a role until they have had `upTo` signals. */
  private signal(role: "ingest" | "worker", upTo: number): void {
    for (; this.signalled[role] < upTo; this.signalled[role]++) {
      for (const t of this.procs.values()) {
        if (t.group === role) {
          try {
            process.kill(t.pid, "SIGUSR2");
          } catch {
            // exited
          }
        }
      }
    }
  }

  /** The cell's receipts stored and not yet applied; the last values when the query fails. */
  private async readProgress(): Promise<{ rows: number; unapplied: number; fresh: boolean }> {
    try {
      const r = await this.db?.query<{ rows: number; unapplied: number }>(
        "select count(*)::int as rows, count(*) filter (where processed_at is null)::int as unapplied from receipts",
      );
      this.progress = { ...(r?.rows[0] ?? this.progress), fresh: r !== undefined };
    } catch {
      this.progress = { ...this.progress, fresh: false }; // dropped at the end of the cell
    }
    return this.progress;
  }

  private async classify(
    pid: number,
    comm: string,
    ppid: number,
  ): Promise<Omit<Tracked, "pid" | "base" | "cpu">> {
    if (pid === process.pid) {
      return { group: "bench" };
    }
    const cmdline = (await readText(`/proc/${pid}/cmdline`)).split("\0");
    if (comm === "node" && ppid === process.pid) {
      const role = cmdline[cmdline.indexOf("--role") + 1];
      if (role !== "ingest" && role !== "worker") {
        return { group: null };
      }
      if (!this.db) {
        // The cell's database (its URL is kept in memory only: it could carry a password).
        const env = (await readText(`/proc/${pid}/environ`)).split("\0");
        const url = env.find((e) => e.startsWith("DATABASE_URL="))?.slice(13);
        if (url) {
          this.dbName = new URL(url).pathname.slice(1);
          this.db = new pg.Client({ connectionString: url });
          this.db.on("error", () => {}); // terminated by the drop at the end of the cell
          await this.db.connect();
        }
      }
      return { group: role };
    }
    if (comm === "postgres") {
      // Backend titles: "postgres: <cluster>: <user> <db> <host>(<port>) <state>".
      const title = cmdline.join(" ");
      const backend =
        /: \S+ (\S+) [^ ]+\(\d+\)/.exec(title) ?? /autovacuum worker (\S+)/.exec(title);
      return backend ? { group: "pgBackends", db: backend[1] ?? "" } : { group: "pgShared" };
    }
    if (
      comm === "redis-server" &&
      (pid === this.redis.pid || cmdline.join(" ").includes(`:${this.redis.port}`))
    ) {
      return { group: "redis" };
    }
    return { group: null };
  }
}

interface Window {
  seconds: number;
  receipts: number;
  /** CPU µs per receipt by kind. */
  usPerReceipt: Cpu;
  /** CPU seconds per second: of the pipeline (all kinds above), of the whole machine. */
  pipelineCores: number;
  machineCores: number;
}

function windowOf(h: Snapshot[], from: number, to: number, receipts: number): Window | undefined {
  const a = h[from];
  const b = h[to];
  if (!a || !b || to <= from || receipts <= 0) {
    return undefined;
  }
  const seconds = (b.t - a.t) / 1000;
  const usPerReceipt: Cpu = {};
  let cpu = 0;
  for (const g of Object.keys(b.cpu) as Group[]) {
    const used = (b.cpu[g] ?? 0) - (a.cpu[g] ?? 0);
    usPerReceipt[g] = (used / receipts) * 1e6;
    cpu += used;
  }
  return {
    seconds,
    receipts,
    usPerReceipt,
    pipelineCores: cpu / seconds,
    machineCores:
      ((b.busyJiffies - a.busyJiffies) / Math.max(1, b.allJiffies - a.allJiffies)) *
      os.cpus().length,
  };
}

/**
 * A: last sample with no receipt stored → first with all stored; B: last sample with none applied
 * → last one read before the database went (e2e.run drops it as soon as it sees the last receipt
 * applied, which the 200 ms samples may miss), over the receipts applied in between.
 */
function phases(h: Snapshot[]): { a?: Window; b?: Window } {
  const fresh = h.filter((s) => s.fresh);
  const n = Math.max(0, ...fresh.map((s) => s.rows));
  const lastIndex = (p: (s: Snapshot) => boolean) => fresh.reduce((k, s, i) => (p(s) ? i : k), -1);
  const a0 = lastIndex((s) => s.rows === 0);
  const a1 = fresh.findIndex((s) => s.rows >= n);
  const b0 = lastIndex((s) => s.unapplied >= n);
  const b1 = fresh.length - 1;
  const a = windowOf(fresh, a0, a1, n - (fresh[a0]?.rows ?? 0));
  const b = windowOf(fresh, b0, b1, n - (fresh[b1]?.unapplied ?? n));
  return { ...(a ? { a } : {}), ...(b ? { b } : {}) };
}

interface Cell {
  ingesters: number;
  workers: number;
  calls: number;
  receipts: number;
  ingestPerSecond: number;
  persistPerSecond: number;
  endToEndPerSecond: number;
  cpu: { a?: Window; b?: Window };
  /** The samples themselves, saved with the results for a second look. */
  samples: Snapshot[];
}

/**
 * V8 CPU profile of every daemon child started while NODE_OPTIONS carries this preload, over the
 * window its work happens in: the sampler sends SIGUSR2 at the start and at the end of it.
 */
const PRELOAD = (dir: string) => `
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
const role = process.argv[process.argv.indexOf("--role") + 1] ?? "node";
const session = new Session();
session.connect();
session.post("Profiler.enable");
let state = "idle";
const write = () => session.post("Profiler.stop", (err, res) => {
  if (!err) writeFileSync(${JSON.stringify(dir)} + "/" + role + "-" + process.pid + ".cpuprofile", JSON.stringify(res.profile));
});
process.on("SIGUSR2", () => {
  if (state === "idle") { session.post("Profiler.start"); state = "on"; }
  else if (state === "on") { write(); state = "done"; }
});
process.on("exit", () => { if (state === "on") write(); });
`;

async function runCell(
  calls: number,
  ingesters: number,
  workers: number,
  profileDir?: string,
): Promise<Cell> {
  // e2e.run starts its children with process.env underneath; --cpu-prof is not allowed in
  // NODE_OPTIONS, so the profile is taken by a preload through node:inspector.
  const nodeOptions = process.env.NODE_OPTIONS;
  if (profileDir) {
    await mkdir(profileDir, { recursive: true });
    const preload = path.join(profileDir, "profile-preload.mjs");
    await writeFile(preload, PRELOAD(profileDir));
    process.env.NODE_OPTIONS = `${nodeOptions ?? ""} --import ${preload}`.trim();
  }
  const sampler = new CpuSampler(benchRedis, profileDir !== undefined);
  sampler.start();
  let s: Awaited<ReturnType<typeof runE2e>>;
  let history: Snapshot[];
  try {
    s = await runE2e({ calls, ingesters, workers, reconcile: false });
  } finally {
    if (nodeOptions === undefined) {
      delete process.env.NODE_OPTIONS;
    } else {
      process.env.NODE_OPTIONS = nodeOptions;
    }
    history = await sampler.stop();
  }
  return {
    ingesters,
    workers,
    calls,
    receipts: s.receipts,
    ingestPerSecond: s.ingestPerSecond,
    persistPerSecond: s.persistPerSecond,
    endToEndPerSecond: s.receipts / s.endToEndSeconds,
    cpu: phases(history),
    samples: history,
  };
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));

function printCells(cells: Cell[], base: Cell): void {
  const rates = new Table({
    style: { head: [], border: [] },
    head: [
      "ingest × worker",
      "receipts",
      "ingest /s",
      "×1×1",
      "persist /s",
      "×1×1",
      "end to end /s",
      "×1×1",
    ],
  });
  for (const c of cells) {
    rates.push([
      `${c.ingesters} × ${c.workers}`,
      c.receipts,
      fmt(c.ingestPerSecond),
      `${(c.ingestPerSecond / base.ingestPerSecond).toFixed(2)}×`,
      fmt(c.persistPerSecond),
      `${(c.persistPerSecond / base.persistPerSecond).toFixed(2)}×`,
      fmt(c.endToEndPerSecond),
      `${(c.endToEndPerSecond / base.endToEndPerSecond).toFixed(2)}×`,
    ]);
  }
  console.log(
    `\n== scale: receipts/s (push + MNS → rows, reconcile off) by ingest and worker processes, against the 1 × 1 rate of this run (${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}, node ${process.version})`,
  );
  console.log(rates.toString());
  const cpu = new Table({
    style: { head: [], border: [] },
    head: [
      "ingest × worker",
      "A: s",
      "A: ingest node",
      "A: pg backends",
      "A: redis",
      "A: simulator",
      "A: cores pipeline / machine",
      "B: s",
      "B: worker node",
      "B: pg backends",
      "B: pg shared",
      "B: redis",
      "B: cores pipeline / machine",
    ],
  });
  const us = (w: Window | undefined, g: Group) => fmt(w?.usPerReceipt[g] ?? NaN);
  const cores = (w: Window | undefined) =>
    w ? `${w.pipelineCores.toFixed(2)} / ${w.machineCores.toFixed(2)}` : "—";
  for (const {
    ingesters,
    workers,
    cpu: { a, b },
  } of cells) {
    cpu.push([
      `${ingesters} × ${workers}`,
      a?.seconds.toFixed(1) ?? "—",
      us(a, "ingest"),
      us(a, "pgBackends"),
      us(a, "redis"),
      us(a, "bench"),
      cores(a),
      b?.seconds.toFixed(1) ?? "—",
      us(b, "worker"),
      us(b, "pgBackends"),
      us(b, "pgShared"),
      us(b, "redis"),
      cores(b),
    ]);
  }
  console.log(
    "CPU µs per receipt by process kind (/proc), A = first receipt stored → all stored (ingesters only), B = first applied → all applied (workers); cores = CPU s per s, of this pipeline / of every process on the machine",
  );
  console.log(cpu.toString());
}

let benchRedis: { pid?: number; port: string } = { port: "6379" };
let ownRedis: ChildProcess | undefined;

/**
 * A Redis of the bench's own (no persistence, like the shared one here), so that its CPU and
 * memory are this bench's alone on a machine where other programs use the shared Redis.
 * Stopped by its pid when the bench exits.
 */
async function startOwnRedis(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "inherit"] });
  process.on("exit", () => child.kill("SIGKILL"));
  ownRedis = child;
  benchRedis = { port: String(port), ...(child.pid === undefined ? {} : { pid: child.pid }) };
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        child.stdout.removeAllListeners("data");
        child.stdout.resume(); // keep draining its log
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  return url;
}

async function main() {
  if (process.argv.includes("--shared-redis")) {
    benchRedis = {
      port: new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379").port || "6379",
    };
  } else {
    process.env.REDIS_URL = await startOwnRedis();
  }
  runE2e = (await import("./e2e.js")).run;
  const { numberArg, saveResults } = await import("./lib.js");
  const quick = process.argv.includes("--quick");
  const calls = numberArg("calls") ?? (quick ? 2000 : 8000);
  const qps = numberArg("qps") ?? 50;
  const at = process.argv.indexOf("--profile");
  const profileArg = at >= 0 ? process.argv[at + 1] : undefined;
  const profileDir = profileArg === undefined ? undefined : path.resolve(profileArg);
  const started = performance.now();

  const cells: Cell[] = [];
  for (const ingesters of [1, 2]) {
    for (const workers of [1, 2, 4]) {
      cells.push(await runCell(calls, ingesters, workers));
    }
  }
  const base = cells[0] as Cell;
  // The 1 × 1 cell again at the end: how far the rates drifted during the run (other load).
  const again = quick ? undefined : await runCell(calls, 1, 1);

  // The shared reconcile quota: 4 worker processes against QueryCallDetailByCallId.
  const rc = await runE2e({
    calls: quick ? 400 : 1200,
    ingesters: 1,
    workers: 4,
    qps,
    reconcile: true,
  });

  let profiled: Cell | undefined;
  if (profileDir) {
    profiled = await runCell(calls, 1, 1, profileDir);
  }

  printCells(cells, base);
  if (again) {
    console.log(
      `1 × 1 again at the end: ingest ${fmt(again.ingestPerSecond)}/s (${(again.ingestPerSecond / base.ingestPerSecond).toFixed(2)}× the first), persist ${fmt(again.persistPerSecond)}/s (${(again.persistPerSecond / base.persistPerSecond).toFixed(2)}×)`,
    );
  }
  const within = rc.detailMaxPerSecond <= qps;
  // Phase B of the reconcile run (workers started → every outbound call reconciled).
  const rcSeconds = rc.endToEndSeconds - rc.receipts / rc.ingestPerSecond;
  const requestsPerSecond = rc.detailCalls / rcSeconds;
  console.log(
    `\n== reconcile quota across 4 worker processes (${rc.calls} calls): QueryCallDetailByCallId ${fmt(requestsPerSecond)} requests/s | cap VMS_RECONCILE_QPS ${qps} | ratio ${(requestsPerSecond / qps).toFixed(3)}×; most requests in any sliding second ${rc.detailMaxPerSecond} = ${(rc.detailMaxPerSecond / qps).toFixed(2)}× the cap (${within ? "within" : "EXCEEDED"}); ${rc.detailCalls} requests, ${rc.throttled} throttled; ${fmt(rc.reconciledCallsPerSecond)} outbound calls reconciled/s (a call may take several requests while its ProdId is learnt); the simulator's event loop (this process) stalled up to ${Math.round(rc.simulatorLoopStallMaxMs)} ms${rc.simulatorLoopStallMaxMs > 30 ? ", beyond the limiter's 30 ms window margin: requests sent apart may be counted together" : ""}`,
  );
  if (!within) {
    process.exitCode = 1;
  }
  if (profiled && profileDir) {
    const files = (await readdir(profileDir)).filter((f) => f.endsWith(".cpuprofile"));
    console.log(
      `\nCPU profiles of a 1 × 1 cell in ${profileDir}: ${files.join(", ")}\n  summarise: npx tsx bench/cpuprofile.ts ${profileDir}/*.cpuprofile`,
    );
  }
  const minutes = (performance.now() - started) / 60_000;
  console.log(`\nscale bench: ${minutes.toFixed(1)} min`);
  ownRedis?.kill("SIGTERM");
  await saveResults("scale", {
    quick,
    minutes,
    loadAverage: os.loadavg(),
    redis: process.argv.includes("--shared-redis") ? "shared" : "own",
    cells,
    again,
    reconcile: { ...rc, requestsPerSecond },
    profiled,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
