/**
 * Receipts pushed to a running daemon over real HTTP, as Alibaba's push does: one
 * `POST /push/:messageType` per type and at most 100 receipts (a push batch), each answered 200.
 */
import { groupByType, type Receipt } from "../../src/simulator/index.js";

export async function pushReceipts(url: string, receipts: readonly Receipt[]): Promise<void> {
  for (const [type, bodies] of groupByType(receipts)) {
    for (let i = 0; i < bodies.length; i += 100) {
      const res = await fetch(`${url}/push/${type}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(bodies.slice(i, i + 100)),
      });
      if (res.status !== 200) {
        throw new Error(`push ${type}: ${res.status} ${await res.text()}`);
      }
    }
  }
}
