/**
 * The global setup's side of test/helpers/suiteLogs.ts (no vitest import: it runs in the main
 * process): the directory, and the grep of every daemon log of the run for every secret.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** For the global setup: a fresh directory. */
export function prepareSuiteLogDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** For the global teardown: "<secret prefix>… in <file>" for every secret found in a log. */
export function findLeakedSecrets(path: string): string[] {
  const files = readdirSync(path);
  const secrets = new Set(
    files
      .filter((f) => f.startsWith("secrets-"))
      .flatMap((f) => readFileSync(join(path, f), "utf8").split("\n"))
      .filter((s) => s.length >= 6),
  );
  const leaks: string[] = [];
  for (const f of files.filter((name) => name.startsWith("logs-"))) {
    const text = readFileSync(join(path, f), "utf8");
    for (const s of secrets) {
      if (text.includes(s)) {
        leaks.push(`${s.slice(0, 3)}… in ${f}`);
      }
    }
  }
  return leaks;
}
