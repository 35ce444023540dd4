/**
 * A throw-away redis-server of our own (never the shared one) that a fault run may kill -9 and
 * start again on the same port and data directory. AOF with `appendfsync always` by default:
 * the setting the README asks for, under which an acknowledged write survives a process crash
 * (reference §5.2: `everysec` lost 1,125 acknowledged jobs in 1 of 3 kills).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { Redis } from "ioredis";

import { waitFor } from "../helpers/waitFor.js";

export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Start again on the same port and directory (it replays its AOF); resolves once it answers PING. */
  restart(): Promise<void>;
  /** `INFO memory` used_memory, in bytes. */
  usedMemory(): Promise<number>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function answers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export async function startRedisServer(
  opts: { appendfsync?: "always" | "everysec" | "no" } = {},
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
        // BullMQ needs every key kept (reference §1.4).
        "--maxmemory-policy",
        "noeviction",
      ],
      { stdio: "ignore" },
    );
    child = c;
    await waitFor(() => answers(url), { timeoutMs: 15_000, intervalMs: 50, what: "redis-server" });
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

  await start();
  return {
    url,
    port,
    kill,
    restart: start,
    async usedMemory() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        const info = await r.info("memory");
        return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
      } finally {
        r.disconnect();
      }
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
