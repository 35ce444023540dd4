/**
 * The daemon as real child processes (`voice-receipts run --role …` through
 * test/helpers/cli.ts), so a fault run can SIGKILL or SIGTERM one and start another in its place.
 */
import type { ChildProcess } from "node:child_process";

import { spawnCli } from "./cli.js";
import { waitFor } from "./waitFor.js";

export type Role = "ingest" | "worker" | "all";

export interface DaemonProcess {
  role: Role;
  child: ChildProcess;
  /** The last ~200 kB of stdout + stderr (pino JSON lines). */
  out(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The HTTP server's URL (ingest/all). */
  url: string | undefined;
}

const KEEP = 200_000;
/** Lines that say a process is ready: the HTTP server of an ingester, the workers of a worker. */
const READY: Record<Role, RegExp> = {
  ingest: /"url":"(http:\/\/[^"]+)"/,
  worker: /"workers started"/,
  all: /"url":"(http:\/\/[^"]+)"[\s\S]*"workers started"|"workers started"[\s\S]*"url":"(http:\/\/[^"]+)"/,
};

export async function spawnDaemon(role: Role, env: Record<string, string>): Promise<DaemonProcess> {
  const child = spawnCli(["run", "--role", role], env);
  let out = "";
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2 * KEEP) {
      out = out.slice(-KEEP);
    }
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const match = await waitFor(
    () => {
      if (gone) {
        throw new Error(`daemon (${role}) exited before it was ready:\n${out.slice(-3000)}`);
      }
      return READY[role].exec(out);
    },
    // A tsx-run daemon compiles its sources at start: 10–30 s on a 2-core machine at load 10.
    { timeoutMs: 90_000, intervalMs: 50, what: `a ${role} process ready` },
  ).catch((err: unknown) => {
    // Never leave a process behind that nobody will stop.
    child.kill("SIGKILL");
    throw err;
  });
  return { role, child, out: () => out, exited, url: match[1] ?? match[2] };
}

/** SIGKILL (no clean-up at all) and wait until the process is gone. */
export async function killHard(d: DaemonProcess): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) {
    d.child.kill("SIGKILL");
  }
  await d.exited;
}
