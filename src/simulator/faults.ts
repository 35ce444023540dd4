/**
 * Fault injection for tests: the next N responses of a service fail in a chosen way, and an
 * optional added latency delays every response.
 */

export type FaultTarget = "mns" | "token" | "detail";

export type Fault =
  /** Answer with this HTTP status and error code (XML for MNS, JSON for RPC). */
  | { kind: "error"; status: number; code: string; message?: string }
  /** Answer with a non-XML/non-JSON body, as a proxy would (e.g. 502 HTML). */
  | { kind: "garbage"; status: number }
  /** Destroy the socket without answering. */
  | { kind: "drop" };

export class FaultBox {
  private readonly pending = new Map<FaultTarget, Fault[]>();
  private readonly latency = new Map<FaultTarget, number>();
  private readonly rates = new Map<
    FaultTarget,
    { fault: Fault; rate: number; random: () => number }
  >();

  /** Make the next `count` requests to `target` fail with `fault`. */
  inject(target: FaultTarget, fault: Fault, count = 1): void {
    const list = this.pending.get(target) ?? [];
    for (let i = 0; i < count; i++) {
      list.push(fault);
    }
    this.pending.set(target, list);
  }

  /**
   * Make each request to `target` fail with `fault` with probability `rate` (0 turns it off),
   * after any queued faults: "20% 5xx" whatever the request rate (fault F4 of docs/reliability.md).
   */
  setFailureRate(target: FaultTarget, fault: Fault, rate: number, random = Math.random): void {
    if (rate > 0) {
      this.rates.set(target, { fault, rate: Math.min(1, rate), random });
    } else {
      this.rates.delete(target);
    }
  }

  take(target: FaultTarget): Fault | undefined {
    const queued = this.pending.get(target)?.shift();
    if (queued) {
      return queued;
    }
    const r = this.rates.get(target);
    return r && r.random() < r.rate ? r.fault : undefined;
  }

  setLatency(target: FaultTarget, ms: number): void {
    this.latency.set(target, Math.max(0, ms));
  }

  latencyMs(target: FaultTarget): number {
    return this.latency.get(target) ?? 0;
  }

  clear(): void {
    this.pending.clear();
    this.latency.clear();
    this.rates.clear();
  }
}
