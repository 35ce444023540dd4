/**
 * Recording store on the filesystem (VMS_RECORDINGS_STORE=file://<dir>): see scenario.ts.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

import { describe } from "vitest";

import { recordingStoreScenario } from "./scenario.js";

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...(await walk(p)));
    } else {
      out.push(p);
    }
  }
  return out;
}

describe("recording store: filesystem", () => {
  recordingStoreScenario(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vr-recordings-"));
    return {
      env: { VMS_RECORDINGS_STORE: `file://${dir}` },
      // Temporary (.part) files would show here too: none may be left behind.
      list: async () => (await walk(dir)).map((p) => relative(dir, p)),
      read: async (key) => createReadStream(join(dir, key)),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  });
});
