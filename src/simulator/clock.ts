/**
 * Simulated time. Everything time-based in the simulator (visibility timeouts, token expiry,
 * detail lag, call times) reads `clock.now()`, so tests can jump forward with `advance(ms)`
 * instead of sleeping. Timers that wait for real time (long polls) re-check on `onAdvance`.
 */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export class SimClock implements Clock {
  private offsetMs = 0;
  private readonly listeners = new Set<() => void>();

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Move simulated time forward (never backward) and wake everything that waits on it. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`advance(ms) needs a non-negative number, got ${ms}`);
    }
    this.offsetMs += ms;
    for (const listener of this.listeners) {
      listener();
    }
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

/** `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai (UTC+8, no daylight saving), as Alibaba writes times. */
export function formatBeijing(epochMs: number): string {
  return new Date(epochMs + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ");
}

/** Inverse of {@link formatBeijing}; undefined for anything else. */
export function parseBeijing(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s] = m.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_OFFSET_MS;
}

/** The Beijing calendar day (`yyyy-MM-dd`) an instant falls on. */
export function beijingDay(epochMs: number): string {
  return formatBeijing(epochMs).slice(0, 10);
}
