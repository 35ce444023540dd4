/**
 * The one sleep: node:timers/promises' setTimeout with an AbortSignal. One abort semantics for
 * the whole program: an aborted sleep *returns early* (it does not throw), because every caller
 * here sleeps inside a loop that checks its own stop flag or signal right after waking. Node's
 * AbortError rejection is turned into that return here, and only here.
 */
import { setTimeout as delay } from "node:timers/promises";

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (!signal?.aborted) {
      throw err;
    }
  }
}
