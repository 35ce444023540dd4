/**
 * Short or full form of the reliability suite. `npm test` runs the short form (a few hundred
 * calls, outages of seconds) beside the other test files; `npm run test:reliability` sets
 * RELIABILITY=full (vitest.reliability.config.ts): longer loads and the 60 s PostgreSQL outage.
 */
export const FULL = process.env.RELIABILITY === "full";

/** The short value, or the full one under RELIABILITY=full. */
export function pick<T>(short: T, full: T): T {
  return FULL ? full : short;
}

/** vitest timeout of one fault run. */
export const RUN_TIMEOUT_MS = FULL ? 600_000 : 120_000;
