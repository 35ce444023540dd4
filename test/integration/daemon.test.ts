import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { processEnv, spawnCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
const prefix = randomPrefix();
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

const SECRET = "daemon-test-secret-9f8e7d";
const PUSH_TOKEN = "daemon-test-push-token-1a2b";

describe("voice-receipts run", () => {
  it("starts, migrates, serves health, logs its configuration without secrets, and stops cleanly on SIGTERM", async () => {
    // Start from an empty schema so that start-up has to migrate.
    await db.pool.query(
      "drop schema public cascade; create schema public; drop schema if exists drizzle cascade",
    );
    const child = spawnCli(
      ["run"],
      processEnv(db.url, prefix, {
        VMS_PUSH_HOST: "127.0.0.1",
        VMS_PUSH_PORT: "0",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAItestkey",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
        VMS_PUSH_TOKEN: PUSH_TOKEN,
      }),
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );

    const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], {
      timeoutMs: 20_000,
      what: "the daemon to listen",
    });
    expect(out).toContain("migrations applied");
    expect(out).toContain("LTAItestkey");

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { postgres: "ok", migrations: "ok", redis: "ok" },
    });

    child.kill("SIGTERM");
    const code = await exited;
    expect(code).toBe(0);
    expect(out).toContain('"msg":"stopped"');
    expect(out).toContain('"clean":true');
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(PUSH_TOKEN);
  });
});
