/**
 * `simulate --traffic N --push-url URL` against a running daemon: what `docker compose up`
 * does. Receipts must arrive through both MNS and HTTP push; and over a soak, simulated calls
 * end in the past at a steady rate and the daemon keeps up: pending stays bounded while
 * reconciled grows.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { simulateCommand } from "../../src/cli/simulate.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { freePort } from "../helpers/servers.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let t: TestApp;
let soak: TestApp | undefined;
const prefix = randomPrefix();
const soakPrefix = randomPrefix();
const CREDS = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAItrafficTestKey",
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: "traffic-test-secret",
};
const QUEUES =
  "VoiceReport:Alicom-Queue-1234567890123456-VoiceReport,VoiceCallReport:Alicom-Queue-1234567890123456-VoiceCallReport,VoiceRecordReport:Alicom-Queue-1234567890123456-VoiceRecordReport";

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await t?.stop();
  await soak?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
  await deleteKeysWithPrefix(soakPrefix);
});

/** The daemon's environment against the simulator that `simulate` serves at `simUrl`. */
const againstSimulator = (simUrl: string, more: Record<string, string>) => ({
  ...CREDS,
  VMS_MNS_QUEUES: QUEUES,
  VMS_MNS_ENDPOINT: simUrl,
  VMS_TOKEN_ENDPOINT: simUrl,
  VMS_API_ENDPOINT: simUrl,
  VMS_MNS_WAIT_SECONDS: "1",
  ...more,
});

describe("simulate --traffic", () => {
  it("keeps receipts flowing into a daemon through MNS and HTTP push", async () => {
    const port = await freePort();
    const simUrl = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      databaseUrl: db.url,
      prefix,
      env: againstSimulator(simUrl, {
        VMS_PUSH_TOKEN: "traffic-push-token",
        VMS_RECONCILE: "off",
      }),
    });
    const lines: string[] = [];
    const abort = new AbortController();
    const running = simulateCommand({
      port,
      env: { ...CREDS, VMS_MNS_QUEUES: QUEUES, LOG_LEVEL: "silent" },
      out: (l) => lines.push(l),
      signal: abort.signal,
      traffic: 5,
      pushUrl: `${t.url}/push/{messageType}?token=traffic-push-token`,
    });
    try {
      const count = async (source: string) =>
        (await db.pool.query("select count(*)::int as n from receipts where source = $1", [source]))
          .rows[0].n as number;
      await waitFor(async () => (await count("mns")) > 0 && (await count("http")) > 0, {
        timeoutMs: 20_000,
        what: "receipts from both modes",
      });
      expect(lines.join("\n")).toContain("generating 5 calls/s");
      expect(lines.join("\n")).not.toContain("traffic-push-token");
    } finally {
      abort.abort();
      await running;
    }
  });

  it("soak: calls end in the past at a steady rate; pending stays bounded while reconciled grows", async () => {
    const soakDb = await createTestDatabase();
    const port = await freePort();
    const simUrl = `http://127.0.0.1:${port}`;
    const rate = 5;
    try {
      soak = await startTestApp({
        databaseUrl: soakDb.url,
        prefix: soakPrefix,
        env: againstSimulator(simUrl, {
          VMS_RECONCILE: "on",
          VMS_RECONCILE_DELAY_SECONDS: "1",
        }),
      });
      const abort = new AbortController();
      const lines: string[] = [];
      const running = simulateCommand({
        port,
        env: { ...CREDS, VMS_MNS_QUEUES: QUEUES, LOG_LEVEL: "silent" },
        out: (l) => lines.push(l),
        signal: abort.signal,
        traffic: rate,
      });
      try {
        await waitFor(() => lines.some((l) => l.startsWith("# generating")), {
          what: "simulator started",
        });
        // A short detail lag, so a call can be reconciled a second after it ended.
        const settings = await fetch(`${simUrl}/__control/settings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ detailLagMs: 1000 }),
        });
        expect(settings.ok).toBe(true);
        const samples: Array<{
          calls: number;
          pending: number;
          reconciled: number;
          future: number;
          newestAgeSeconds: number | null;
        }> = [];
        for (let i = 0; i < 7; i++) {
          await new Promise((r) => setTimeout(r, 10_000));
          const { rows } = await soakDb.pool.query(
            `select count(*)::int as calls,
                      (count(*) filter (where reconcile_status = 'pending'))::int as pending,
                      (count(*) filter (where reconcile_status = 'reconciled'))::int as reconciled,
                      (count(*) filter (where end_time > now() + interval '1 second'))::int as future,
                      extract(epoch from now() - max(end_time))::float as "newestAgeSeconds"
                 from calls`,
          );
          samples.push(rows[0]);
        }
        // No call ends in the future, and the newest call ended recently: end times track
        // the clock instead of drifting (before: an hour behind, then hours ahead).
        for (const s of samples) {
          expect(s.future, JSON.stringify(samples)).toBe(0);
          expect(s.newestAgeSeconds, JSON.stringify(samples)).not.toBeNull();
          expect(s.newestAgeSeconds!, JSON.stringify(samples)).toBeLessThan(60);
        }
        // Bounded: never more than 30 s of traffic waiting, while the total keeps growing.
        const last = samples.at(-1)!;
        expect(last.calls, JSON.stringify(samples)).toBeGreaterThan(rate * 40);
        for (const s of samples.slice(1)) {
          expect(s.pending, JSON.stringify(samples)).toBeLessThanOrEqual(rate * 30);
        }
        // Reconciled grows over the soak, sample after sample in its second half.
        for (let i = 4; i < samples.length; i++) {
          expect(samples[i]!.reconciled, JSON.stringify(samples)).toBeGreaterThan(
            samples[i - 1]!.reconciled,
          );
        }
      } finally {
        abort.abort();
        await running;
      }
    } finally {
      await soak?.stop();
      soak = undefined;
      await soakDb.drop();
    }
  }, 150_000);
});
