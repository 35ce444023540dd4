/**
 * The logs of every in-process daemon of the whole test run, kept on disk so that the global
 * teardown (test/global-setup.ts) can grep them for the secrets the tests used: push and admin
 * tokens, AccessKey secrets, and the phone numbers of tests that run with LOG_REDACT_NUMBERS=on.
 * A hit fails the run. (Daemons spawned as child processes are not covered.)
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";

import { inject } from "vitest";

const dir = () => inject("suiteLogDir");

/** Appends one chunk of a daemon's log to this worker's file. */
export function recordSuiteLog(chunk: string): void {
  appendFileSync(join(dir(), `logs-${process.pid}.log`), chunk);
}

/** Declares values no log line of the run may contain (one per line). */
export function registerSuiteSecrets(values: readonly (string | undefined)[]): void {
  const lines = values.filter((v): v is string => v !== undefined && v.length >= 6);
  if (lines.length > 0) {
    appendFileSync(join(dir(), `secrets-${process.pid}.txt`), `${lines.join("\n")}\n`);
  }
}
