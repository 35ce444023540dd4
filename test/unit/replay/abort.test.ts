/**
 * SIGTERM/Ctrl-C (the replay's AbortSignal) stops the reading of a file at once, whatever is
 * being read: the open streams are closed and the records stop, no rejected row is made up.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { afterAll, beforeAll, expect, it } from "vitest";

import { collectFiles, readFile } from "../../../src/replay/files.js";

let dir: string;
const LINES = 200_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vr-abort-"));
  const line = (i: number) =>
    `{"call_id":"${i}^${i}","status_code":"200000","end_time":"2026-11-25 10:00:10","r":"${(i * 7919).toString(36)}"}`;
  const text = Array.from({ length: LINES }, (_, i) => line(i)).join("\n");
  await writeFile(join(dir, "big.ndjson.gz"), gzipSync(text));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("an abort ends the records of the file being read", async () => {
  const { files } = await collectFiles([join(dir, "big.ndjson.gz")]);
  const abort = new AbortController();
  const reading = await readFile(files[0]!, abort.signal);
  let n = 0;
  let bad = 0;
  for await (const record of reading.records) {
    n++;
    bad += record.kind === "bad" ? 1 : 0;
    if (n === 10) {
      abort.abort();
    }
  }
  // What was already split from the chunk in hand may still come; the rest of the file not.
  expect(n).toBeLessThan(LINES / 10);
  expect(bad).toBe(0);
});
