/**
 * Steady simulated traffic for `simulate --traffic N`: every second N new calls of every
 * product that ended during the last second (never in the future, so the daemon can reconcile
 * them once the detail lag has passed); half of them have their receipts put on the MNS
 * queues, the other half pushed to an HTTP endpoint the way Alibaba does (when a push URL is
 * given; otherwise all go to MNS). This is what makes `docker compose up` show receipts flowing.
 */
import type { SimulatorControl } from "./control.js";
import { createPushClient } from "./pushClient.js";
import { groupByType, receiptsForCall, type Receipt } from "./receipts.js";

export interface TrafficOptions {
  control: SimulatorControl;
  callsPerSecond: number;
  /** e.g. `http://daemon:8080/push/{messageType}?token=…`; `{messageType}` is substituted. */
  pushUrl?: string | undefined;
  out: (line: string) => void;
  /** Print a progress line every this many seconds; default 10. */
  reportEverySeconds?: number;
}

export function startTraffic(options: TrafficOptions): { stop(): Promise<void> } {
  const { control } = options;
  // The receiver may start after us (compose): retry a refused push a few times, slowly.
  const push = options.pushUrl
    ? createPushClient({
        url: options.pushUrl,
        retryDelaysMs: [2000, 5000, 10_000, 30_000],
        timeoutMs: 5000,
      })
    : undefined;
  const totals = { calls: 0, mns: 0, pushed: 0, pushFailed: 0 };
  const inFlight = new Set<Promise<void>>();
  let ticks = 0;

  const tick = () => {
    const calls = control.generateEndedCalls(options.callsPerSecond);
    totals.calls += calls.length;
    const toMns: Receipt[] = [];
    const toPush: Receipt[] = [];
    calls.forEach((call, i) =>
      (push && i % 2 === 1 ? toPush : toMns).push(...receiptsForCall(call)),
    );
    totals.mns += control.enqueueReceipts(toMns);
    if (push && toPush.length > 0) {
      for (const [type, bodies] of groupByType(toPush)) {
        const p = push
          .pushAll(type, bodies)
          .then((outcomes) => {
            for (const o of outcomes) {
              if (o.delivered) {
                totals.pushed += o.receipts;
              } else {
                totals.pushFailed += o.receipts;
              }
            }
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
    ticks++;
    if (ticks % (options.reportEverySeconds ?? 10) === 0) {
      options.out(
        `# traffic: ${totals.calls} calls, ${totals.mns} receipts to MNS, ${totals.pushed} pushed${totals.pushFailed ? ` (${totals.pushFailed} not accepted)` : ""}`,
      );
    }
  };
  const timer = setInterval(tick, 1000);
  tick();

  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      await push?.close();
    },
  };
}
