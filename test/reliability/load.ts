/**
 * Modest, steady load through both delivery modes, recorded in the checker's ledger: every
 * few hundred milliseconds the simulator generates calls; the receipts of even calls go to its
 * MNS queues, those of odd calls are pushed by its push client (Alibaba's batch push, retried
 * on failure). Optionally every receipt is delivered several times, and a share of poison
 * receipts (malformed fields, a message that is not Base64 JSON) is mixed in, each carrying a
 * marker the checker looks for in rejected_receipts.
 */
import {
  createCallGenerator,
  groupByType,
  receiptsForCall,
  type Receipt,
} from "../../src/simulator/index.js";
import type { PushClient, Simulator } from "../../src/simulator/index.js";
import { expectReceipt, type Sent } from "./checker.js";

export interface LoadOptions {
  sim: Simulator;
  push: PushClient;
  sent: Sent;
  calls: number;
  seconds: number;
  /** Deliveries of every receipt in each mode (3 = the duplicate storm, F7). */
  copies?: number;
  /** Poison receipts added per valid receipt (0.01 = F6). */
  poisonRate?: number;
  /** Called with the number of calls generated so far, after each tick. */
  onTick?: (generated: number) => void;
}

export interface LoadStats {
  receipts: number;
  pushBatches: number;
  pushGaveUp: number;
  /** Dedup keys delivered by MNS: acknowledged once their messages are deleted. */
  mnsKeys: Set<string>;
  /** Promise of every push still retrying when the load itself ended. */
  pushes: Promise<void>;
}

const TICK_MS = 200;

let poisonSerial = 0;

/** A receipt that must be quarantined, and its marker. */
function poison(r: Receipt, viaMns: boolean): { marker: string; receipt?: Receipt; raw?: string } {
  const marker = `poison-${process.pid}-${++poisonSerial}`;
  if (viaMns && poisonSerial % 2 === 0) {
    // Not Base64 JSON at all: the whole MNS message is rejected, then deleted.
    return { marker, raw: `@@ not base64 ${marker} @@` };
  }
  const field = r.messageType === "VoiceCallReport" ? "status_time" : "start_time";
  return { marker, receipt: { ...r, body: { ...r.body, [field]: "2026-13-45 99:99", marker } } };
}

export async function runLoad(o: LoadOptions): Promise<LoadStats> {
  const copies = o.copies ?? 1;
  const ticks = Math.max(1, Math.round((o.seconds * 1000) / TICK_MS));
  const perTick = Math.max(1, Math.ceil(o.calls / ticks));
  const pushes: Promise<void>[] = [];
  const stats = { receipts: 0, pushBatches: 0, pushGaveUp: 0, mnsKeys: new Set<string>() };
  let generated = 0;
  let poisonDebt = 0;
  // Dedup key of each valid body, to mark it acknowledged when its push succeeds.
  const keyOf = new WeakMap<object, string>();

  const push = (type: string, bodies: Record<string, unknown>[], keys: (string | undefined)[]) => {
    stats.pushBatches++;
    pushes.push(
      o.push.push(type, bodies).then((outcome) => {
        o.sent.pushedReceiptAttempts += outcome.attempts.length * bodies.length;
        if (!outcome.delivered) {
          stats.pushGaveUp++;
          return;
        }
        for (const k of keys) {
          const r = k === undefined ? undefined : o.sent.receipts.get(k);
          if (r) {
            r.acked = true;
          }
        }
      }),
    );
  };

  // Every call ended in the past (the simulator's own generator spaces calls 3 s apart from an
  // hour ago, so beyond ~1,200 calls they would lie in the future, their detail never visible).
  const generator = createCallGenerator({
    seed: 7,
    startTime: Date.now() - 3 * 3600_000,
    meanGapMs: Math.min(3000, 3600_000 / o.calls),
  });
  const started = Date.now();
  for (let t = 0; t < ticks && generated < o.calls; t++) {
    const calls = generator.generate(Math.min(perTick, o.calls - generated));
    o.sim.control.loadCalls(calls);
    const toPush: Receipt[] = [];
    calls.forEach((call, i) => {
      const viaMns = (generated + i) % 2 === 0;
      for (const r of receiptsForCall(call)) {
        stats.receipts++;
        const key = expectReceipt(o.sent, r.messageType, r.body);
        keyOf.set(r.body, key);
        if (viaMns) {
          stats.mnsKeys.add(key);
        }
        poisonDebt += o.poisonRate ?? 0;
        const bad = poisonDebt >= 1 ? poison(r, viaMns) : undefined;
        if (bad) {
          poisonDebt -= 1;
          o.sent.poison.add(bad.marker);
        }
        for (let c = 0; c < copies; c++) {
          if (viaMns) {
            o.sim.control.enqueueReceipts(bad?.receipt ? [r, bad.receipt] : [r]);
            if (bad?.raw !== undefined) {
              const queue = o.sim.control.queueFor(r.messageType) as string;
              o.sim.control.enqueue(queue, bad.raw);
            }
            o.sent.mnsMessages += bad ? 2 : 1;
          } else if (c === 0) {
            toPush.push(r);
            if (bad?.receipt) {
              toPush.push(bad.receipt);
            }
          }
        }
      }
    });
    generated += calls.length;
    for (const [type, bodies] of groupByType(toPush)) {
      const keys = bodies.map((b) => keyOf.get(b));
      for (let c = 0; c < copies; c++) {
        push(type, bodies, keys);
      }
    }
    o.onTick?.(generated);
    const due = started + (t + 1) * TICK_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  return { ...stats, pushes: Promise.all(pushes).then(() => undefined) };
}
