/**
 * The rules file (VMS_SMART_CALL_RULES): an ordered list of rules, the first that matches a turn
 * answers it when the webhook gave no answer.
 *
 *   [
 *     { "name": "agent", "keyword": ["人工", "客服"], "action": "transfer", "number": "13700000000" },
 *     { "regex": "^(不|没)(需要|兴趣)", "action": "hangup" },
 *     { "dtmf": "1", "action": "play", "action_code": "menu-1.wav" },
 *     { "content_type": "mute", "action": "play", "action_code": "are-you-there.wav" }
 *   ]
 *
 * (or `{"rules": [...]}`). A rule has at most one matcher — `keyword` (one or a list; matched as
 * a substring of `words`, case- and width-insensitive), `regex` (JavaScript syntax, optional
 * `flags` from i, m, s, u; tested against `words`) or `dtmf` (one or a list; equal to
 * `dtmf_digits`, e.g. "1" or "noInputTimeout") — plus an optional `content_type` filter (one
 * or a list); a rule with only `content_type` matches every turn of that type. Then `action`,
 * `action_code` and any documented answer field (answer.ts). Unknown keys are errors, so a typo
 * never silently disables a rule.
 *
 * JSON always; YAML (`.yaml`/`.yml`) when the optional `yaml` package is installed. The file is
 * validated at start (a bad file stops the daemon with a ConfigError naming the variable) and
 * reloaded when it changes; a bad edit is logged and the previous rules stay in force.
 */
import { readFile } from "node:fs/promises";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import { extname } from "node:path";

import { z } from "zod";

import { isPlainObject } from "../domain/json.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import { actionSchema, optionalAnswerFields, toAnswerData, type AnswerData } from "./answer.js";
import type { SmartCallMetrics } from "./metrics.js";

export const RULES_VARIABLE = "VMS_SMART_CALL_RULES";

export interface SmartCallRule {
  /** 1-based position in the file. */
  index: number;
  /** For answered_reason and logs, e.g. `rule 2 "agent" (keyword)`. */
  label: string;
  contentTypes: ReadonlySet<string> | undefined;
  /** Normalised (see normalizeText). */
  keywords: readonly string[] | undefined;
  regex: RegExp | undefined;
  dtmf: ReadonlySet<string> | undefined;
  answer: AnswerData;
}

/** What a rule looks at. */
export interface RuleInput {
  contentType: string;
  words: string | null;
  dtmf: string | null;
}

/** Case- and width-insensitive form (full-width ＡＢＣ１ → abc1). */
export function normalizeText(s: string): string {
  return s.normalize("NFKC").toLowerCase();
}

function oneOrMany<T extends z.ZodType>(item: T) {
  return z
    .union([item, z.array(item).min(1, "must not be an empty list")])
    .transform((v): z.output<T>[] => (Array.isArray(v) ? v : [v]));
}

const nonEmpty = z.string().trim().min(1, "must not be empty");

const ruleSchema = z
  .object({
    name: nonEmpty.optional(),
    keyword: oneOrMany(nonEmpty).optional(),
    regex: z.string().min(1, "must not be empty").optional(),
    flags: z
      .string()
      .regex(/^[imsu]*$/, "may only contain i, m, s, u")
      .optional(),
    dtmf: oneOrMany(
      z.union([nonEmpty, z.number().int().nonnegative().transform(String)]),
    ).optional(),
    content_type: oneOrMany(nonEmpty).optional(),
    action: actionSchema,
    ...optionalAnswerFields,
  })
  .strict()
  .superRefine((r, ctx) => {
    const matchers = (["keyword", "regex", "dtmf"] as const).filter((k) => r[k] !== undefined);
    if (matchers.length > 1) {
      ctx.addIssue({
        code: "custom",
        message: `has ${matchers.join(" and ")}: use one matcher per rule`,
      });
    }
    if (matchers.length === 0 && r.content_type === undefined) {
      ctx.addIssue({ code: "custom", message: "needs keyword, regex, dtmf or content_type" });
    }
    if (r.flags !== undefined && r.regex === undefined) {
      ctx.addIssue({ code: "custom", path: ["flags"], message: "only applies to regex" });
    }
    if (r.regex !== undefined) {
      try {
        new RegExp(r.regex, r.flags);
      } catch (err) {
        ctx.addIssue({ code: "custom", path: ["regex"], message: (err as Error).message });
      }
    }
  });

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
  }
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

export type CompileResult =
  { ok: true; rules: SmartCallRule[] } | { ok: false; problems: string[] };

/** Validates a parsed rules document; every problem is reported, not only the first. */
export function compileRules(doc: unknown): CompileResult {
  let list: unknown;
  if (Array.isArray(doc)) {
    list = doc;
  } else if (isPlainObject(doc) && Array.isArray(doc.rules) && Object.keys(doc).length === 1) {
    list = doc.rules;
  } else {
    return { ok: false, problems: ['must be a list of rules, or {"rules": [...]}'] };
  }
  const rules: SmartCallRule[] = [];
  const problems: string[] = [];
  (list as unknown[]).forEach((raw, i) => {
    const index = i + 1;
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      const name =
        isPlainObject(raw) && typeof raw.name === "string" ? ` ${JSON.stringify(raw.name)}` : "";
      problems.push(...parsed.error.issues.map((iss) => `rule ${index}${name}: ${issueText(iss)}`));
      return;
    }
    const r = parsed.data;
    const { name, keyword, regex, flags, dtmf, content_type: contentType, ...answer } = r;
    const matcher = keyword ? "keyword" : regex ? "regex" : dtmf ? "dtmf" : "content_type";
    rules.push({
      index,
      label: `rule ${index}${name ? ` ${JSON.stringify(name)}` : ""} (${matcher})`,
      contentTypes: contentType ? new Set(contentType) : undefined,
      keywords: keyword?.map(normalizeText),
      regex: regex === undefined ? undefined : new RegExp(regex, flags),
      dtmf: dtmf ? new Set(dtmf) : undefined,
      answer: toAnswerData(answer),
    });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules };
}

function ruleMatches(rule: SmartCallRule, turn: RuleInput): boolean {
  if (rule.contentTypes && !rule.contentTypes.has(turn.contentType)) {
    return false;
  }
  if (rule.keywords) {
    if (turn.words === null) {
      return false;
    }
    const words = normalizeText(turn.words);
    return rule.keywords.some((k) => words.includes(k));
  }
  if (rule.regex) {
    return turn.words !== null && rule.regex.test(turn.words);
  }
  if (rule.dtmf) {
    return turn.dtmf !== null && rule.dtmf.has(turn.dtmf.trim());
  }
  return true;
}

/** The first rule that matches, in file order. */
export function matchRule(
  rules: readonly SmartCallRule[],
  turn: RuleInput,
): SmartCallRule | undefined {
  return rules.find((rule) => ruleMatches(rule, turn));
}

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
