/**
 * `simulate` as a command: prints the endpoints and credentials, serves the queues of
 * VMS_MNS_QUEUES, keeps configured secrets out of its output, and stops when told.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { simulateCommand } from "../../../src/cli/simulate.js";
import { waitFor } from "../../helpers/waitFor.js";
import { mnsClient } from "./fixture.js";

async function runSimulate(env: Record<string, string>, credentialsFile?: string) {
  const lines: string[] = [];
  const stop = new AbortController();
  const done = simulateCommand({
    port: 0,
    host: "127.0.0.1",
    env: { LOG_LEVEL: "silent", ...env },
    out: (l) => lines.push(l),
    signal: stop.signal,
    ...(credentialsFile === undefined ? {} : { credentialsFile }),
  });
  await waitFor(() => lines.some((l) => l.startsWith("# generate calls")), {
    what: "simulate output",
  });
  // What a user does: paste the output into a shell.
  const shell = execFileSync("sh", ["-c", `${lines.join("\n")}\nenv`], {
    env: { PATH: process.env.PATH },
    encoding: "utf8",
  });
  const exported = new Map(
    shell.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const value = (name: string) => exported.get(name) ?? "";
  return { lines, value, stop: () => (stop.abort(), done) };
}

describe("simulate command", () => {
  it("prints only export lines and comments, so the whole output pastes into a shell", async () => {
    const run = await runSimulate({});
    for (const line of run.lines) {
      expect(line).toMatch(/^(export [A-Z_]+=\S+|# .*)$/);
    }
    expect(run.value("ALIBABA_CLOUD_ACCESS_KEY_SECRET")).toMatch(/^\S{20,}$/);
    await run.stop();
  });

  it("keeps the generated keys in --credentials-file, so a restart serves the same account", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vr-sim-creds-"));
    const file = join(dir, "simulator.env");
    try {
      const first = await runSimulate({}, file);
      await first.stop();
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, "utf8")).toContain(
        first.value("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
      );
      const second = await runSimulate({}, file);
      expect(second.value("ALIBABA_CLOUD_ACCESS_KEY_ID")).toBe(
        first.value("ALIBABA_CLOUD_ACCESS_KEY_ID"),
      );
      expect(second.value("ALIBABA_CLOUD_ACCESS_KEY_SECRET")).toBe(
        first.value("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
      );
      const client = mnsClient({
        url: second.value("VMS_MNS_ENDPOINT"),
        credentials: {
          accessKeyId: first.value("ALIBABA_CLOUD_ACCESS_KEY_ID"),
          accessKeySecret: first.value("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        },
      } as never);
      await expect(
        client.receiveMessage("Alicom-Queue-1234567890123456-VoiceCallReport"),
      ).rejects.toMatchObject({ name: "MNSMessageNotExistError" });
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints the three endpoints and generated credentials that the MNS client can use", async () => {
    const run = await runSimulate({});
    const url = run.value("VMS_MNS_ENDPOINT");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(run.value("VMS_TOKEN_ENDPOINT")).toBe(url);
    expect(run.value("VMS_API_ENDPOINT")).toBe(url);
    expect(run.value("VMS_MNS_QUEUES")).toContain(
      "VoiceReport:Alicom-Queue-1234567890123456-VoiceReport",
    );

    const fake = {
      url,
      credentials: {
        accessKeyId: run.value("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        accessKeySecret: run.value("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
      },
    };
    const client = mnsClient(fake as never);
    await expect(
      client.receiveMessage("Alicom-Queue-1234567890123456-VoiceCallReport"),
    ).rejects.toMatchObject({ name: "MNSMessageNotExistError" });
    await expect(run.stop()).resolves.toBeUndefined();
  });

  it("uses configured credentials and queues and never prints the configured secret", async () => {
    const run = await runSimulate({
      ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIconfigured",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: "configured-secret-123",
      VMS_MNS_QUEUES: "VoiceReport:my-report-queue",
    });
    expect(run.lines.join("\n")).not.toContain("configured-secret-123");
    expect(run.value("ALIBABA_CLOUD_ACCESS_KEY_ID")).toBe("LTAIconfigured");
    expect(run.value("VMS_MNS_QUEUES")).toBe("VoiceReport:my-report-queue");
    const client = mnsClient({
      url: run.value("VMS_MNS_ENDPOINT"),
      credentials: { accessKeyId: "LTAIconfigured", accessKeySecret: "configured-secret-123" },
    } as never);
    await expect(client.receiveMessage("my-report-queue")).rejects.toMatchObject({
      name: "MNSMessageNotExistError",
    });
    await run.stop();
  });
});
