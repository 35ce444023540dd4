/**
 * The replay progress bar's layout (it fits the terminal, and the file name keeps its end) and
 * its stop path (Ctrl-C: the stopping message on a line of its own, the last frame where the run
 * stopped, never a jump to 100 %), and --no-progress still showing notes.
 */
import { describe, expect, it } from "vitest";

import {
  barLine,
  createProgress,
  notesOnlyProgress,
  type ProgressSnapshot,
} from "../../../src/replay/progress.js";
import { captureStream } from "../../helpers/streams.js";

const LONG =
  "/srv/archives/alibaba/2026-11/Alicom-Queue-1234567890123456-VoiceReport-2026-11-20.ndjson.gz";

describe("barLine", () => {
  it("fits a 100-column terminal and keeps the end of a long file name", () => {
    const line = barLine(
      { phase: "reading", share: 0.42, read: 123_456, rate: 9876, eta: "1m05s", file: LONG },
      100,
    );
    expect(line.length).toBeLessThanOrEqual(99);
    expect(line).toContain("VoiceReport-2026-11-20.ndjson.gz");
    expect(line).toContain(" 42%");
    expect(line).toContain("123456 receipts");
    expect(line).toMatch(/█+░+ /);
  });

  it("never exceeds the terminal, whatever the width, the figures and the name", () => {
    const files = ["", "a.json", LONG, "x".repeat(300), "语音记录/2026-11-20.json"];
    for (let columns = 20; columns <= 400; columns++) {
      for (const file of files) {
        for (const [share, read, rate] of [
          [0, 0, 0],
          [0.5, 1_234_567, 98_765],
          [1, Number.MAX_SAFE_INTEGER, 1e9],
        ] as const) {
          const line = barLine({ phase: "applying", share, read, rate, eta: "?", file }, columns);
          expect(line.length).toBeLessThanOrEqual(Math.max(20, columns - 1));
          if (line.includes(" | …")) {
            // Elided from the start: what is shown is the end of the name.
            expect(file.endsWith(line.slice(line.lastIndexOf(" | …") + 4))).toBe(true);
          }
        }
      }
    }
  });
});

function fakeTty(columns: number) {
  const { stream, text } = captureStream();
  Object.assign(stream, { isTTY: true, columns, cursorTo() {}, clearLine() {}, moveCursor() {} });
  return { stream, out: text };
}

const snapshot = (bytesDone: number): ProgressSnapshot => ({
  phase: "reading",
  bytesDone,
  bytesTotal: 1000,
  read: 400,
  accepted: 400,
  duplicates: 0,
  rejected: 0,
  file: LONG,
  waitDone: 0,
  waitTotal: 0,
});

describe("the bar's stop path", () => {
  it("prints the stopping message on its own line and ends on the real share, not 100 %", () => {
    const tty = fakeTty(100);
    const progress = createProgress(tty.stream);
    progress.start(() => snapshot(400));
    progress.stopping("replay: stopping after the batches in flight (again to force)");
    progress.stop();
    const out = tty.out();
    expect(out).toContain(
      "\r\x1b[2Kreplay: stopping after the batches in flight (again to force)\n",
    );
    expect(out).not.toContain("100%");
    const frames = out.split(/\r|\n/).filter((l) => l.includes(" receipts "));
    const last = frames[frames.length - 1] ?? "";
    expect(last).toContain("stopping");
    expect(last).toContain(" 40%");
    // Terminal control sequences (CSI …, ESC 7/8) take no columns.
    const ansi = new RegExp(`${String.fromCharCode(27)}(\\[[0-9;?]*[A-Za-z]|[78])`, "g");
    for (const f of frames) {
      expect(f.replace(ansi, "").length, JSON.stringify(f)).toBeLessThanOrEqual(99);
    }
  });
});

describe("--no-progress", () => {
  it("hides progress but not notes such as 'no worker is connected'", () => {
    const { stream, text } = captureStream();
    const progress = notesOnlyProgress(stream);
    progress.start(() => snapshot(1));
    progress.note("replay: 5 receipts wait for a persist worker, and none is connected");
    progress.stop();
    expect(text()).toBe("replay: 5 receipts wait for a persist worker, and none is connected\n");
  });
});
