import { describe, expect, it } from "vitest";

import { resolveMode } from "../../../src/cli/replay.js";
import { ConfigError } from "../../../src/errors.js";
import {
  formatDuration,
  progressLine,
  type ProgressSnapshot,
} from "../../../src/replay/progress.js";
import type { ReplaySummary } from "../../../src/replay/replay.js";
import { summaryLine } from "../../../src/replay/summary.js";

const SUMMARY: ReplaySummary = {
  files: 3,
  bytes: 1000,
  read: 1200,
  accepted: 1000,
  duplicates: 195,
  rejected: 5,
  firstRejected: [
    { location: "/a/x.ndjson:3", reason: "line is not valid JSON" },
    { location: "/a/y.json:17", reason: "x" },
    { location: "/a/z.xml:40", reason: "y" },
    { location: "/a/z.xml:41", reason: "z" },
  ],
  mode: "apply",
  applied: 1000,
  deadLettered: 0,
  queued: 0,
  skippedCalls: 0,
  elapsedMs: 2500,
  interrupted: false,
};

describe("summaryLine", () => {
  it("says what was read, new, duplicate and rejected (first locations), applied, time and rate", () => {
    expect(summaryLine(SUMMARY, { reconcile: true })).toBe(
      "replay: 1200 receipts read from 3 files: 1000 new, 195 duplicates, " +
        "5 rejected (/a/x.ndjson:3, /a/y.json:17, /a/z.xml:40, …); 1000 applied; 2.5 s, 480 receipts/s",
    );
  });

  it("describes the queue and wait modes, --no-reconcile and an interruption", () => {
    expect(
      summaryLine(
        { ...SUMMARY, mode: "queue", queued: 1000, rejected: 0, firstRejected: [] },
        { reconcile: false },
      ),
    ).toMatch(
      /0 rejected; 1000 queued for the persist workers; 0 calls marked reconcile_status=skipped;/,
    );
    expect(
      summaryLine(
        { ...SUMMARY, mode: "wait", applied: 900, queued: 100, interrupted: true },
        { reconcile: true },
      ),
    ).toMatch(/^replay interrupted: .*900 applied by the persist workers, 100 still queued/);
  });
});

describe("progressLine", () => {
  const snap: ProgressSnapshot = {
    phase: "reading",
    bytesDone: 250,
    bytesTotal: 1000,
    read: 5000,
    accepted: 4000,
    duplicates: 900,
    rejected: 100,
    file: "/a/x.ndjson",
    waitDone: 0,
    waitTotal: 0,
  };

  it("gives share, counts, rate and ETA", () => {
    expect(progressLine(snap, 10_000)).toBe(
      "replay: 25% of 1000 B, 5000 receipts read (4000 new, 900 duplicates, 100 rejected), 500/s, ETA 30s",
    );
    expect(progressLine({ ...snap, phase: "waiting", waitDone: 3, waitTotal: 7 }, 1)).toBe(
      "replay: waiting for the persist workers: 3/7 receipts applied",
    );
    expect(formatDuration(3_723_000)).toBe("1h02m");
  });
});

describe("resolveMode", () => {
  it("applies in-process by default, queues with --no-apply, waits with --wait", () => {
    expect(resolveMode({})).toBe("apply");
    expect(resolveMode({ apply: true })).toBe("apply");
    expect(resolveMode({ apply: false })).toBe("queue");
    expect(resolveMode({ wait: true })).toBe("wait");
    expect(resolveMode({ wait: true, apply: false })).toBe("wait");
    expect(() => resolveMode({ wait: true, apply: true })).toThrow(ConfigError);
  });
});
