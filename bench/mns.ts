/**
 * bench/mns.ts — messages/s drained from a 50k-message MNS backlog (received, made durable,
 * deleted) next to the theoretical pollers × 16 per receive round trip, with the round trip
 * measured in the same run against the same simulator (20 ms added latency, as in the
 * reference's T7).
 *
 *   npx tsx bench/mns.ts [--messages 50000] [--pollers 4]
 *   (`run(options)` does the same and returns the figures: bench/all.ts)
 *
 * Target (T7 raised by issue #23): ratio ≥ 0.85×.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";

import MNS from "@alicloud/mns";

import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config/index.js";
import { createLogger } from "../src/logger.js";
import {
  benchPrefix,
  createBenchDb,
  dropPrefix,
  isMain,
  numberArg,
  printFigures,
  REDIS_URL,
  saveResults,
} from "./lib.js";

export interface MnsBenchOptions {
  /** Backlog size; default 50,000. */
  messages?: number;
  /** Long-poll loops (VMS_MNS_CONCURRENCY); default 4. */
  pollers?: number;
}
const LATENCY_MS = 20;
const QUEUE = "Alicom-Queue-1234567890123456-VoiceReport";

interface SimStats {
  queue: { active: number; inactive: number; delayed: number };
  counters: {
    mns: {
      messagesReceived: number;
      receiveRequests: number;
      redeliveries: number;
      deletes: number;
    };
  };
}

function ask<T>(child: ChildProcess, op: string, extra: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { op: string; data: T }) => {
      if (m.op === op) {
        child.off("message", onMessage);
        resolve(m.data);
      }
    };
    child.on("message", onMessage);
    child.send({ op, ...extra });
  });
}

export async function run(o: MnsBenchOptions = {}) {
  const MESSAGES = o.messages ?? 50_000;
  const POLLERS = o.pollers ?? 4;
  const simChild = fork(new URL("./mnsSim.ts", import.meta.url), { execArgv: ["--import", "tsx"] });
  await new Promise((r) => simChild.once("message", r));
  const run = String(randomInt(1e11, 1e12 - 1));
  const sim = await ask<{
    url: string;
    credentials: { accessKeyId: string; accessKeySecret: string };
  }>(simChild, "setup", {
    queue: QUEUE,
    latencyMs: LATENCY_MS,
    messages: MESSAGES,
    run,
  });

  // The anchor's round trip: an empty receive (404) through the real SDK, same server, same latency.
  const client = new MNS("0", { ...sim.credentials, endpoint: sim.url, connectTimeout: 35_000 });
  const rtts: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await client.batchReceiveMessage("probe", 16, 0).catch(() => undefined);
    rtts.push(performance.now() - t0);
  }
  rtts.sort((a, b) => a - b);
  const rttMs = rtts[Math.floor(rtts.length / 2)] as number;

  const db = await createBenchDb();
  const prefix = benchPrefix();
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL,
    VMS_QUEUE_PREFIX: prefix,
    VMS_PUSH_HOST: "127.0.0.1",
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_MNS_QUEUES: `VoiceReport:${QUEUE}`,
    VMS_MNS_ENDPOINT: sim.url,
    VMS_TOKEN_ENDPOINT: sim.url,
    VMS_MNS_WAIT_SECONDS: "1",
    VMS_MNS_CONCURRENCY: String(POLLERS),
    VMS_RECONCILE: "off",
    LOG_LEVEL: "warn",
  });
  // Warnings (failed deletes, retries) go to stderr: they explain a slow run.
  const sink = process.stderr;
  const app = await buildApp(config, {
    role: "ingest",
    logger: createLogger({ level: "warn", destination: sink }),
    port: 0,
  });
  const started = performance.now();
  // CPU per message beside the ratio: the ratio moves with the machine's load, CPU per message
  // much less (docs/benchmarks.md, MNS). This process is the daemon (and this loop's polling).
  const cpuAtStart = process.cpuUsage();
  const simCpuAtStart = await ask<number>(simChild, "cpu");
  await app.start();
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const s = (await ask<SimStats>(simChild, "stats", { queue: QUEUE })).queue;
      if (s.active + s.inactive + s.delayed === 0) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`backlog not drained in 120 s: ${JSON.stringify(s)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const daemonCpuUs = (cpu.user + cpu.system) / MESSAGES;
    const simCpuUs = ((await ask<number>(simChild, "cpu")) - simCpuAtStart) * (1000 / MESSAGES);
    const { rows } = await db.pool.query<{ n: number }>("select count(*)::int as n from receipts");
    const c = (await ask<SimStats>(simChild, "stats", { queue: QUEUE })).counters;
    const rate = MESSAGES / seconds;
    const theoretical = (POLLERS * 16) / (rttMs / 1000);
    printFigures(
      `mns: drain a ${MESSAGES.toLocaleString("en-US")}-message backlog, ${POLLERS} pollers, +${LATENCY_MS} ms per MNS request`,
      [
        {
          name: "drained (stored + deleted)",
          unit: "msgs/s",
          value: rate,
          anchorName: `pollers × 16 / receive RTT (${rttMs.toFixed(1)} ms)`,
          anchor: theoretical,
          target: "≥ 0.85×",
        },
      ],
    );
    console.log(
      `CPU per message: daemon ${daemonCpuUs.toFixed(0)} µs, simulator ${simCpuUs.toFixed(0)} µs`,
    );
    console.log(
      `messages per receive: ${(c.mns.messagesReceived / Math.max(1, c.mns.receiveRequests - 30)).toFixed(1)}; rows ${rows[0]?.n}; redeliveries ${c.mns.redeliveries}; deletes ${c.mns.deletes}`,
    );
    const summary = {
      messages: MESSAGES,
      pollers: POLLERS,
      rttMs,
      rate,
      theoretical,
      ratio: rate / theoretical,
      daemonCpuUs,
      simCpuUs,
      rows: rows[0]?.n,
    };
    await saveResults("mns", summary);
    return summary;
  } finally {
    await app.stop();
    simChild.send({ op: "close" });
    await db.drop();
    await dropPrefix(prefix);
  }
}

if (isMain(import.meta.url)) {
  await run({ messages: numberArg("messages") ?? 50_000, pollers: numberArg("pollers") ?? 4 });
}
