/**
 * A LISTEN connection on voice_receipts_events that calls `onEvent` for each id announced, so
 * delivery starts as soon as an event commits rather than at the next poll. Only a wake-up: a
 * notification lost while the connection is down is caught by the poll. Reconnects after a
 * failure, with a growing delay (hand-written: pg has no reconnecting client, and a retry
 * library would add little to a loop of four lines).
 */
import { setTimeout as sleep } from "node:timers/promises";

import pg from "pg";

import type { Logger } from "../logger.js";
import { EVENTS_CHANNEL } from "../store/events/emit.js";

export function createEventListener(options: {
  databaseUrl: string;
  logger: Logger;
  onEvent: (id: string) => void;
}) {
  const { logger } = options;
  const stopper = new AbortController();
  let client: pg.Client | undefined;
  let loop: Promise<void> | undefined;

  async function listenOnce(): Promise<void> {
    const c = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: "voice-receipts delivery listen",
      connectionTimeoutMillis: 5000,
    });
    client = c;
    const closed = new Promise<void>((resolve) => {
      c.on("error", () => resolve());
      c.on("end", () => resolve());
    });
    c.on("notification", (n) => {
      if (n.channel === EVENTS_CHANNEL && n.payload) {
        options.onEvent(n.payload);
      }
    });
    await c.connect();
    await c.query(`listen ${EVENTS_CHANNEL}`);
    await closed;
  }

  async function run(): Promise<void> {
    let delayMs = 500;
    while (!stopper.signal.aborted) {
      const started = Date.now();
      try {
        await listenOnce();
      } catch (err) {
        logger.debug({ err }, "LISTEN connection failed; the poll covers the gap");
      } finally {
        await client?.end().catch(() => {});
        client = undefined;
      }
      delayMs = Date.now() - started > 30_000 ? 500 : Math.min(delayMs * 2, 15_000);
      await sleep(delayMs, undefined, { signal: stopper.signal }).catch(() => {});
    }
  }

  return {
    start() {
      loop ??= run();
    },
    async stop() {
      stopper.abort();
      await client?.end().catch(() => {});
      await loop;
    },
  };
}
