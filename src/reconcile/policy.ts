/**
 * When to ask, what to ask for, and how long to wait: the pure timing rules of reconciliation.
 */
import { HOUR, MINUTE, SECOND, beijingDay } from "../domain/time.js";

/** The times of a call the rules look at (columns of `calls`). */
export interface CallTimes {
  originateTime: Date | null;
  ringTime: Date | null;
  startTime: Date | null;
  endTime: Date | null;
  lastEventTime: Date | null;
  createdAt: Date;
}

/** When the call ended, as well as we know: the CDR's end, else the last in-call event, else first sight. */
export function callEndedAt(call: CallTimes): Date {
  return (
    call.endTime ?? call.lastEventTime ?? call.startTime ?? call.originateTime ?? call.createdAt
  );
}

/** After this instant a call whose detail never appeared is `not_found`. */
export function giveUpAtMs(call: CallTimes, giveUpMs: number): number {
  return callEndedAt(call).getTime() + giveUpMs;
}

/**
 * QueryDate: 00:00 Beijing time of the call's day, in ms. The docs say the CallId and QueryDate
 * "must be on the same day" and, in the current version, that records within 24 h after
 * QueryDate are searched; the start of the day satisfies both readings. The call's day is the
 * day it was placed, so the earliest known time wins.
 */
export function queryDateMs(call: CallTimes): number {
  const t =
    call.originateTime ??
    call.ringTime ??
    call.startTime ??
    call.endTime ??
    call.lastEventTime ??
    call.createdAt;
  return beijingDay(t);
}

function jitter(ms: number, random: () => number, spread = 0.1): number {
  return Math.round(ms * (1 - spread + 2 * spread * random()));
}

/**
 * Base wait before asking again after an empty answer. The detail appears 3–5 min after the
 * call; the first query is `delayMs` (default 180 s) after the end, so a third of that is a
 * sensible first step (60 s by default). Floors at 500 ms so a zero delay (tests) still backs off.
 */
export function retryBaseMs(delayMs: number): number {
  return Math.min(MINUTE, Math.max(500, Math.round(delayMs / 3)));
}

export const RETRY_MAX_MS = HOUR;

export type AfterEmptyRound = { kind: "not_found" } | { kind: "retry"; delayMs: number };

/**
 * After a round in which no ProdId had the call: give up once the window has passed, otherwise
 * wait base × 2^(attempts-1) (capped, ±10 %), but never past the give-up instant, so that the
 * last round happens right at the deadline.
 */
export function afterEmptyRound(p: {
  nowMs: number;
  /** Rounds done so far, this one included (≥ 1). */
  attempts: number;
  giveUpAtMs: number;
  baseMs: number;
  maxMs?: number;
  random?: () => number;
}): AfterEmptyRound {
  if (p.nowMs >= p.giveUpAtMs) {
    return { kind: "not_found" };
  }
  const exp = Math.min(30, Math.max(0, p.attempts - 1));
  const delay = jitter(
    Math.min(p.maxMs ?? RETRY_MAX_MS, p.baseMs * 2 ** exp),
    p.random ?? Math.random,
  );
  return { kind: "retry", delayMs: Math.max(1, Math.min(delay, p.giveUpAtMs - p.nowMs)) };
}

/** 5xx, network errors, timeouts: 1 s, 2 s, 4 s … 5 min. Never counted as an attempt. */
export function transientDelayMs(failures: number, random: () => number = Math.random): number {
  return jitter(
    Math.min(5 * MINUTE, SECOND * 2 ** Math.min(20, Math.max(0, failures - 1))),
    random,
  );
}

/** Refused requests (signature, permission, parameters): 1 min, 2 min … 30 min. Never dropped. */
export function refusedDelayMs(failures: number, random: () => number = Math.random): number {
  return jitter(
    Math.min(30 * MINUTE, MINUTE * 2 ** Math.min(20, Math.max(0, failures - 1))),
    random,
  );
}

/**
 * Global pause after a throttling answer: 250 ms, 500 ms, 1 s … 30 s for consecutive throttles.
 * Our own limiter keeps us under the quota, so a lone throttle is usually jitter (requests
 * bunched on the way) and a short pause is enough; a streak means someone else spends the
 * account's quota too, and the pause grows until they leave us room.
 */
export function throttlePauseMs(streak: number): number {
  return Math.min(30 * SECOND, 250 * 2 ** Math.min(20, Math.max(0, streak - 1)));
}
