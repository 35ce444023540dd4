/**
 * Simulated time. Everything time-based in the simulator (visibility timeouts, token expiry,
 * detail lag, call times) reads `clock.now()`, so tests can jump forward with `advance(ms)`
 * instead of sleeping. Timers that wait for real time (long polls) re-check on `onAdvance`.
 */

import { formatBeijingDate, formatBeijingTime, parseBeijingTime } from "../domain/time.js";

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

// Alibaba's time format is the product's own domain code; the simulator writes and reads it
// with the same functions the daemon parses it with.

/** `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai (UTC+8, no daylight saving), as Alibaba writes times. */
export function formatBeijing(epochMs: number): string {
  return formatBeijingTime(new Date(epochMs));
}

/** Inverse of {@link formatBeijing}; undefined for anything else. */
export function parseBeijing(text: string): number | undefined {
  const r = parseBeijingTime(text);
  return r.ok ? r.value.getTime() : undefined;
}

/** The Beijing calendar day (`yyyy-MM-dd`) an instant falls on. */
export function beijingDay(epochMs: number): string {
  return formatBeijingDate(new Date(epochMs));
}
