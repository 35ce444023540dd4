import { describe, expect, it } from "vitest";

import { generateDialogue, smartCallParams } from "../../../src/simulator/index.js";
import { parseCallback } from "../../../src/smartcall/callback.js";

describe("simulated smart-call dialogues", () => {
  it("are deterministic per seed and differ across seeds", () => {
    expect(generateDialogue({ seed: 7 })).toEqual(generateDialogue({ seed: 7 }));
    expect(generateDialogue({ seed: 7 })).not.toEqual(generateDialogue({ seed: 8 }));
  });

  it("open and close with speech, in increasing time", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const turns = generateDialogue({ seed });
      expect(turns[0]?.contentType).toBe("normal");
      expect(turns.at(-1)?.words).toMatch(/再见/);
      const times = turns.map((t) => t.atMs);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(new Set(times).size).toBe(times.length);
    }
  });

  it("render parameters the callback parser accepts", () => {
    const call = { callId: "123456789012^210987654321", startTime: Date.UTC(2026, 10, 21, 2) };
    for (const turn of generateDialogue({ seed: 3, middleTurns: 12 })) {
      const r = parseCallback(smartCallParams(call, turn, "dyn-1"));
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.turn).toMatchObject({
          callId: call.callId,
          timestampMs: call.startTime + turn.atMs,
          contentType: turn.contentType,
          role: turn.role,
          words: turn.words,
          dtmf: turn.dtmf,
          dynamicId: "dyn-1",
        });
      }
    }
  });
});
