/**
 * `simulate --traffic N --push-url URL` against a running daemon: what `docker compose up`
 * does. Receipts must arrive through both MNS and HTTP push.
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
const prefix = randomPrefix();
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
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

describe("simulate --traffic", () => {
  it("keeps receipts flowing into a daemon through MNS and HTTP push", async () => {
    const port = await freePort();
    const simUrl = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      databaseUrl: db.url,
      prefix,
      env: {
        ...CREDS,
        VMS_MNS_QUEUES: QUEUES,
        VMS_MNS_ENDPOINT: simUrl,
        VMS_TOKEN_ENDPOINT: simUrl,
        VMS_API_ENDPOINT: simUrl,
        VMS_MNS_WAIT_SECONDS: "1",
        VMS_PUSH_TOKEN: "traffic-push-token",
        VMS_RECONCILE: "off",
      },
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
});
