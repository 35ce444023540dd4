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
 * Pure: compiling and matching. Reading, validating at start and reloading the file is
 * rulesFile.ts.
 */
import { z } from "zod";

import { isPlainObject } from "../domain/json.js";
import { actionSchema, optionalAnswerFields, toAnswerData, type AnswerData } from "./answer.js";

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
