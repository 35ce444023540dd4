/**
 * The simulator side of bench/mns.ts, in its own process so that it does not share an event
 * loop with the daemon under test. Driven over IPC.
 */
import { startSimulator } from "../src/simulator/index.js";
import { voiceReport } from "./lib.js";

const sim = await startSimulator({ detailLagMs: 0 });

process.on("message", (msg: { op: string; [k: string]: unknown }) => {
  const reply = (data: unknown) => process.send?.({ op: msg.op, data });
  switch (msg.op) {
    case "setup": {
      const queue = msg.queue as string;
      sim.control.createQueue(queue, { messageType: "VoiceReport", visibilityTimeoutSeconds: 60 });
      sim.control.createQueue("probe", { messageType: "VoiceReport" });
      sim.control.setLatency("mns", msg.latencyMs as number);
      const run = msg.run as string;
      const receipts = Array.from({ length: msg.messages as number }, (_, i) => ({
        messageType: "VoiceReport" as const,
        body: voiceReport(i, run),
      }));
      sim.control.enqueueReceipts(receipts, { queueName: queue });
      reply({ url: sim.url, credentials: sim.credentials });
      break;
    }
    case "stats":
      reply({
        queue: sim.control.queueStats(msg.queue as string),
        counters: sim.control.counters(),
      });
      break;
    case "cpu": {
      const c = process.cpuUsage();
      reply((c.user + c.system) / 1000);
      break;
    }
    case "close":
      void sim.close().then(() => process.exit(0));
      break;
  }
});
process.send?.({ op: "ready" });
