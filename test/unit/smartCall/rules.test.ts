import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ConfigError } from "../../../src/errors.js";
import { createLogger } from "../../../src/logger.js";
import {
  compileRules,
  matchRule,
  type RuleInput,
  type SmartCallRule,
} from "../../../src/smartcall/rules.js";
import { loadRulesOrThrow, openRules } from "../../../src/smartcall/rulesFile.js";

const quiet = createLogger({
  level: "silent",
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

function compile(doc: unknown): SmartCallRule[] {
  const r = compileRules(doc);
  if (!r.ok) {
    throw new Error(r.problems.join("\n"));
  }
  return r.rules;
}

function problems(doc: unknown): string[] {
  const r = compileRules(doc);
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.problems;
}

const speech = (words: string, contentType = "normal"): RuleInput => ({
  contentType,
  words,
  dtmf: null,
});
const key = (dtmf: string): RuleInput => ({ contentType: "dtmf", words: null, dtmf });

const RULES = [
  { name: "agent", keyword: ["人工", "客服"], action: "transfer", number: "13700000000" },
  { regex: "^(不|没)(需要|兴趣)", action: "hangup" },
  { keyword: "Price", action: "play", action_code: "price.wav" },
  { dtmf: ["1", 2], action: "play", action_code: "menu-1.wav" },
  { dtmf: "noInputTimeout", action: "hangup" },
  { content_type: "mute", action: "play", action_code: "are-you-there.wav" },
  { keyword: "再见", content_type: "normal", action: "hangup" },
];

describe("smart-call rules: matching", () => {
  const rules = compile(RULES);

  it("matches keywords as substrings, case- and width-insensitive, first rule wins", () => {
    expect(matchRule(rules, speech("我要转人工服务"))?.index).toBe(1);
    expect(matchRule(rules, speech("找客服"))?.answer).toEqual({
      action: "transfer",
      action_code: "",
      number: "13700000000",
    });
    expect(matchRule(rules, speech("what is the PRICE?"))?.index).toBe(3);
    expect(matchRule(rules, speech("ｐｒｉｃｅ"))?.index).toBe(3); // full-width
    expect(matchRule(rules, speech("你好"))).toBeUndefined();
  });

  it("matches a regex against words", () => {
    expect(matchRule(rules, speech("不需要，谢谢"))?.answer.action).toBe("hangup");
    expect(matchRule(rules, speech("我不需要"))).toBeUndefined(); // anchored
  });

  it("matches dtmf digits exactly, numbers and strings alike", () => {
    expect(matchRule(rules, key("1"))?.answer.action_code).toBe("menu-1.wav");
    expect(matchRule(rules, key("2"))?.index).toBe(4);
    expect(matchRule(rules, key("12"))).toBeUndefined();
    expect(matchRule(rules, key("noInputTimeout"))?.answer.action).toBe("hangup");
    // A dtmf rule never matches speech and a keyword rule never matches a key press.
    expect(matchRule(rules, speech("1"))).toBeUndefined();
  });

  it("filters by content_type, and a content_type-only rule matches every turn of that type", () => {
    expect(matchRule(rules, { contentType: "mute", words: null, dtmf: null })?.index).toBe(6);
    expect(matchRule(rules, speech("好的再见"))?.index).toBe(7);
    expect(matchRule(rules, speech("好的再见", "timebreak"))).toBeUndefined();
  });

  it("serialises an object action_code_param and keeps the documented extra fields", () => {
    const [rule] = compile([
      {
        keyword: "x",
        action: "play",
        action_code: "tts-1",
        action_code_param: { name: "喂，你好" },
        action_break: false,
        mute_time: "5000",
      },
    ]);
    expect(rule?.answer).toEqual({
      action: "play",
      action_code: "tts-1",
      action_code_param: '{"name":"喂，你好"}',
      action_break: false,
      mute_time: 5000,
    });
  });

  it('accepts {"rules": [...]} as well as a bare list', () => {
    expect(compile({ rules: RULES })).toHaveLength(RULES.length);
  });
});

describe("smart-call rules: validation", () => {
  it("names the rule and the field of every problem", () => {
    const p = problems([
      { keyword: "a", action: "dance" },
      { name: "typo", keywrod: "b", action: "play" },
      { keyword: "c", dtmf: "1", action: "play" },
      { action: "play" },
      { regex: "(", action: "play" },
      { keyword: "d", flags: "i", action: "play" },
      { keyword: [], action: "play" },
      { dtmf: "1", action: "play", mute_time: "soon" },
    ]);
    expect(p.join("\n")).toMatch(/rule 1: action: must be one of play, break/);
    expect(p.join("\n")).toMatch(/rule 2 "typo": unknown key keywrod/);
    expect(p.join("\n")).toMatch(/rule 3: has keyword and dtmf: use one matcher per rule/);
    expect(p.join("\n")).toMatch(/rule 4: needs keyword, regex, dtmf or content_type/);
    expect(p.join("\n")).toMatch(/rule 5: regex: Invalid regular expression/);
    expect(p.join("\n")).toMatch(/rule 6: flags: only applies to regex/);
    expect(p.join("\n")).toMatch(/rule 7: keyword/);
    expect(p.join("\n")).toMatch(/rule 8: mute_time/);
  });

  it("refuses a document that is not a list of rules", () => {
    expect(problems({ rule: [] })[0]).toMatch(/must be a list of rules/);
    expect(problems("hangup")[0]).toMatch(/must be a list of rules/);
  });

  it("refuses stateful regex flags", () => {
    expect(problems([{ regex: "a", flags: "g", action: "play" }])[0]).toMatch(/flags/);
  });
});

describe("smart-call rules: files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vr-rules-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function configErrorOf(path: string): Promise<ConfigError> {
    try {
      await loadRulesOrThrow(path);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error("expected a ConfigError");
  }

  it("a bad file is a ConfigError naming VMS_SMART_CALL_RULES and the file", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify([{ keyword: "a", action: "dance" }]));
    const err = await configErrorOf(bad);
    expect(err.message).toContain("VMS_SMART_CALL_RULES");
    expect(err.message).toContain(bad);
    expect(err.message).toMatch(/rule 1: action/);

    const broken = join(dir, "broken.json");
    await writeFile(broken, "[{");
    expect((await configErrorOf(broken)).message).toMatch(/not valid JSON/);

    expect((await configErrorOf(join(dir, "missing.json"))).message).toMatch(
      /VMS_SMART_CALL_RULES: cannot read .*ENOENT/,
    );
  });

  it("reads YAML when the optional yaml package is installed", async () => {
    const path = join(dir, "rules.yaml");
    await writeFile(
      path,
      ["- keyword: [人工, 客服]", "  action: transfer", "- dtmf: 1", "  action: hangup", ""].join(
        "\n",
      ),
    );
    let hasYaml = true;
    try {
      await import("yaml" as string);
    } catch {
      hasYaml = false;
    }
    if (hasYaml) {
      const rules = await loadRulesOrThrow(path);
      expect(matchRule(rules, speech("转人工"))?.answer.action).toBe("transfer");
      expect(matchRule(rules, key("1"))?.answer.action).toBe("hangup");
    } else {
      expect((await configErrorOf(path)).message).toMatch(/yaml" package is not installed/);
    }
  });

  it("reloads the file when it changes and keeps the old rules when the new file is bad", async () => {
    const path = join(dir, "live.json");
    await writeFile(path, JSON.stringify([{ keyword: "a", action: "play" }]));
    const source = await openRules({ path, logger: quiet, pollIntervalMs: 20 });
    try {
      expect(source.current()[0]?.answer.action).toBe("play");
      await writeFile(
        path,
        JSON.stringify([
          { keyword: "a", action: "hangup" },
          { dtmf: "1", action: "play" },
        ]),
      );
      await expect.poll(() => source.current().length, { timeout: 5000 }).toBe(2);
      expect(source.current()[0]?.answer.action).toBe("hangup");

      await writeFile(path, "[{ not json");
      expect(await source.reload()).toBe(false);
      expect(source.current()).toHaveLength(2);
    } finally {
      source.close();
    }
  });

  it("without a path there are no rules", async () => {
    const source = await openRules({ path: undefined, logger: quiet });
    expect(source.current()).toEqual([]);
    source.close();
  });
});
