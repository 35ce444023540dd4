/**
 * The rules file (VMS_SMART_CALL_RULES) on disk; its format and matching are rules.ts. JSON
 * always; YAML (`.yaml`/`.yml`) when the optional `yaml` package is installed. The file is
 * validated at start (a bad file stops the daemon with a ConfigError naming the variable) and
 * reloaded when it changes; a bad edit is logged and the previous rules stay in force.
 */
import { readFile } from "node:fs/promises";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import { extname } from "node:path";

import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { SmartCallMetrics } from "./metrics.js";
import { compileRules, RULES_VARIABLE, type SmartCallRule } from "./rules.js";

export type RulesFormat = "json" | "yaml";

export function rulesFormat(path: string): RulesFormat {
  const ext = extname(path).toLowerCase();
  return ext === ".yaml" || ext === ".yml" ? "yaml" : "json";
}

/** `yaml` is optional (not a declared dependency): loaded only for a YAML rules file. */
async function loadYamlParser(): Promise<((text: string) => unknown) | undefined> {
  const name = "yaml";
  try {
    const mod = (await import(name)) as { parse?: (text: string) => unknown };
    return typeof mod.parse === "function" ? mod.parse : undefined;
  } catch {
    return undefined;
  }
}

/** Reads, parses and compiles a rules file; the problems name the file, never the variable. */
export async function readRules(
  path: string,
): Promise<{ ok: true; rules: SmartCallRule[] } | { ok: false; problems: string[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, problems: [`cannot read ${path} (${code ?? (err as Error).message})`] };
  }
  let doc: unknown;
  if (rulesFormat(path) === "yaml") {
    const parse = await loadYamlParser();
    if (!parse) {
      return {
        ok: false,
        problems: [
          `${path} is YAML, but the optional "yaml" package is not installed (npm install yaml), or write the rules as JSON`,
        ],
      };
    }
    try {
      doc = parse(text);
    } catch (err) {
      return { ok: false, problems: [`${path} is not valid YAML: ${(err as Error).message}`] };
    }
  } else {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { ok: false, problems: [`${path} is not valid JSON: ${(err as Error).message}`] };
    }
  }
  const compiled = compileRules(doc);
  return compiled.ok
    ? compiled
    : { ok: false, problems: compiled.problems.map((p) => `${path}: ${p}`) };
}

/** For start-up: the compiled rules or a ConfigError naming VMS_SMART_CALL_RULES. */
export async function loadRulesOrThrow(path: string): Promise<SmartCallRule[]> {
  const result = await readRules(path);
  if (!result.ok) {
    throw new ConfigError(
      `invalid configuration:\n${result.problems.map((p) => `  ${RULES_VARIABLE}: ${p}`).join("\n")}`,
    );
  }
  return result.rules;
}

export interface RulesSource {
  current(): readonly SmartCallRule[];
  /** Re-reads the file now; false (and the old rules kept) when it is invalid. */
  reload(): Promise<boolean>;
  close(): void;
}

export interface RulesSourceOptions {
  path: string | undefined;
  logger: Logger;
  metrics?: SmartCallMetrics;
  /** How often the file's mtime/size are checked; default 2 s. 0 disables reloading. */
  pollIntervalMs?: number;
}

/** Loads the rules (throws ConfigError when invalid) and keeps them current while running. */
export async function openRules(options: RulesSourceOptions): Promise<RulesSource> {
  const { path, logger, metrics } = options;
  if (path === undefined) {
    return { current: () => [], reload: async () => true, close: () => {} };
  }
  let rules: readonly SmartCallRule[] = await loadRulesOrThrow(path);
  logger.info({ path, rules: rules.length }, "smart-call rules loaded");
  let reloading: Promise<boolean> | undefined;

  const reload = (): Promise<boolean> => {
    reloading ??= (async () => {
      try {
        const result = await readRules(path);
        if (!result.ok) {
          metrics?.rulesReloads.inc({ outcome: "invalid" });
          logger.error(
            { path, problems: result.problems },
            "smart-call rules file changed but is invalid; the previous rules stay in force",
          );
          return false;
        }
        rules = result.rules;
        metrics?.rulesReloads.inc({ outcome: "ok" });
        logger.info({ path, rules: rules.length }, "smart-call rules reloaded");
        return true;
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  const interval = options.pollIntervalMs ?? 2000;
  // watchFile (stat polling) rather than fs.watch: editors and config management replace the
  // file (rename), which a watch on the old inode would miss.
  const onChange = (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) {
      return;
    }
    if (curr.nlink === 0 && curr.mtimeMs === 0) {
      logger.warn({ path }, "smart-call rules file disappeared; the previous rules stay in force");
      return;
    }
    void reload();
  };
  if (interval > 0) {
    watchFile(path, { interval, persistent: false }, onChange);
  }
  return {
    current: () => rules,
    reload,
    close: () => {
      if (interval > 0) {
        unwatchFile(path, onChange);
      }
    },
  };
}
