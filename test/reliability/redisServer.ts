/**
 * A throw-away redis-server of our own (never the shared one) that a fault run may kill -9 and
 * start again on the same port and data directory. AOF with `appendfsync always` by default:
 * the setting the README asks for, under which an acknowledged write survives a process crash
 * (measured on BullMQ 6.7.0 / Redis 7.0: `everysec` lost 1,125 acknowledged jobs in 1 of 3 kills).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { freePort, redisAnswers } from "../helpers/servers.js";
import { waitFor } from "../helpers/waitFor.js";

export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Start again on the same port and directory (it replays its AOF); resolves once it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisServer(
  opts: {
    appendfsync?: "always" | "everysec" | "no";
    /** Reserve the port and directory but start nothing until restart() (Redis down at start). */
    stopped?: boolean;
  } = {},
): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "vr-redis-"));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const c = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        opts.appendfsync ?? "always",
        "--save",
        "",
        // BullMQ needs every key kept (BullMQ's production guide: `noeviction`).
        "--maxmemory-policy",
        "noeviction",
      ],
      { stdio: "ignore" },
    );
    child = c;
    await waitFor(() => redisAnswers(url), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: "redis-server",
    });
  };

  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      return;
    }
    const gone = new Promise((resolve) => c.once("exit", resolve));
    c.kill("SIGKILL");
    await gone;
  };

  if (!opts.stopped) {
    await start();
  }
  return {
    url,
    port,
    kill,
    restart: start,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
