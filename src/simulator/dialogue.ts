/**
 * `generateDialogue`: a small deterministic SmartCall conversation (seeded) for the simulator to
 * play (smartCall.ts): the user greets, talks, presses keys, falls silent or barges in, and says
 * goodbye.
 */
import { createRng } from "./random.js";

export type DialogueContentType = "normal" | "mute" | "timebreak" | "dtmf";

export interface DialogueTurn {
  contentType: DialogueContentType;
  /** When the platform sends the callback, in ms after the call was answered. */
  atMs: number;
  /** `B` (the called user) for speech; null for mute, timebreak and dtmf turns. */
  role: string | null;
  words: string | null;
  /** `dtmf_digits` of a dtmf turn. */
  dtmf: string | null;
  /** The utterance, relative to the start of the call (normal turns). */
  beginOffsetMs: number | null;
  endOffsetMs: number | null;
}

export interface DialogueOptions {
  seed?: number;
  /** Turns between the greeting and the goodbye; default 3–6 (seeded). */
  middleTurns?: number;
}

const OPENERS = ["喂，你好", "你好，哪位？", "喂？"] as const;
const MIDDLE = [
  "嗯，你说",
  "是的",
  "多少钱？",
  "我考虑一下",
  "现在有优惠吗",
  "可以再说一遍吗",
  "我在开车，不方便",
] as const;
const CLOSERS = ["好的，谢谢，再见", "不需要了，再见", "好的，再见"] as const;

/** A deterministic conversation: greeting, 3–6 mixed turns, goodbye. */
export function generateDialogue(options: DialogueOptions = {}): DialogueTurn[] {
  const rng = createRng(options.seed ?? 1);
  const turns: DialogueTurn[] = [];
  let cursor = rng.int(800, 2000); // the robot's greeting plays first

  const say = (words: string): void => {
    const begin = cursor + rng.int(300, 1500);
    const end = begin + rng.int(600, 2500);
    turns.push({
      contentType: "normal",
      atMs: end + rng.int(100, 300),
      role: "B",
      words,
      dtmf: null,
      beginOffsetMs: begin,
      endOffsetMs: end,
    });
    cursor = end + rng.int(1500, 4000); // the robot's reply plays
  };
  const event = (contentType: "mute" | "timebreak" | "dtmf", dtmf: string | null): void => {
    cursor += contentType === "mute" ? rng.int(5000, 8000) : rng.int(500, 2000);
    turns.push({
      contentType,
      atMs: cursor,
      role: null,
      words: null,
      dtmf,
      beginOffsetMs: null,
      endOffsetMs: null,
    });
    cursor += rng.int(1000, 3000);
  };

  say(rng.pick(OPENERS));
  const middle = options.middleTurns ?? rng.int(3, 6);
  for (let i = 0; i < middle; i++) {
    const r = rng.next();
    if (r < 0.6) {
      say(rng.pick(MIDDLE));
    } else if (r < 0.75) {
      event("dtmf", rng.pick(["1", "2", "3", "9"]));
    } else if (r < 0.9) {
      event("mute", null);
    } else {
      event("timebreak", null);
    }
  }
  say(rng.pick(CLOSERS));
  return turns;
}
