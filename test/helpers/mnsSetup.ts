/**
 * A simulator with one MNS queue per receipt type, and the daemon environment pointing at it.
 */
import { normalizeReceipt } from "../../src/domain/receipt.js";
import { daemonEnvFor } from "../../src/simulator/daemonEnv.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { Receipt } from "../../src/simulator/receipts.js";

export const MNS_QUEUES = {
  VoiceReport: "Alicom-Queue-1234567890123456-VoiceReport",
  VoiceCallReport: "Alicom-Queue-1234567890123456-VoiceCallReport",
  VoiceRecordReport: "Alicom-Queue-1234567890123456-VoiceRecordReport",
} as const;

export async function startMnsSimulator(
  opts: { visibilityTimeoutSeconds?: number; tokenLifetimeSeconds?: number } = {},
): Promise<Simulator> {
  const sim = await startSimulator({
    detailLagMs: 0,
    ...(opts.tokenLifetimeSeconds ? { tokenLifetimeSeconds: opts.tokenLifetimeSeconds } : {}),
  });
  for (const [messageType, name] of Object.entries(MNS_QUEUES)) {
    sim.control.createQueue(name, {
      messageType,
      visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 3,
    });
  }
  return sim;
}

export function mnsEnv(sim: Simulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...daemonEnvFor(sim),
    VMS_MNS_WAIT_SECONDS: "2",
    VMS_RECONCILE: "off",
    ...extra,
  };
}

/** The distinct receipts (by dedup key) a list of generated receipts must produce. */
export function distinctKeys(receipts: readonly Receipt[]): Set<string> {
  const keys = new Set<string>();
  for (const r of receipts) {
    const n = normalizeReceipt(r.messageType, r.body);
    if (!n.ok) {
      throw new Error(`generated receipt is invalid: ${n.reason}`);
    }
    keys.add(n.receipt.dedupKey);
  }
  return keys;
}

export function queuesEmpty(sim: Simulator): boolean {
  return Object.values(MNS_QUEUES).every((q) => {
    const s = sim.control.queueStats(q);
    return s.active + s.inactive + s.delayed === 0;
  });
}
