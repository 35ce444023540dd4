/**
 * `report` end to end: a known corpus is replayed into a real PostgreSQL, and every report's
 * numbers are checked against numbers derived from the corpus itself (not from SQL), in all
 * three formats, with --from/--to, and with bad arguments exiting 2.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

import stringWidth from "string-width";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { replayCommand } from "../../src/cli/replay.js";
import { reportCommand } from "../../src/cli/report.js";
import { isAnswered, statusMeaning } from "../../src/domain/statusCodes.js";
import type { Cell, Row } from "../../src/report/reports.js";
import { CALLS, receiptsByType, type Receipt } from "../fixtures/corpus.js";
import { runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { parseCsv } from "../unit/report/parseCsv.js";

let db: TestDatabase;
let dir: string;
const env = () => ({ DATABASE_URL: db.url, REDIS_URL: inject("redisUrl"), LOG_LEVEL: "warn" });

// ---------------------------------------------------------------------------------------------
// The corpus: the shared fixture calls (2026-11-20) plus calls designed for the reports.

const voiceReport = (n: number, fields: Receipt): Receipt => ({
  call_id: `50000000000${n}^60000000000${n}`,
  caller: "05712000000",
  callee: `1390000000${n}`,
  ...fields,
});

const EXTRA_REPORTS: Receipt[] = [
  // Robot task 88 on 2026-11-21: answered, answered early, not answered.
  voiceReport(1, {
    out_id: "ALICOM_SMART_SAAS^88^1",
    status_code: "200000",
    status_msg: "执行完成",
    start_time: "2026-11-21 09:00:00",
    end_time: "2026-11-21 09:00:30",
    duration: "30",
  }),
  voiceReport(2, {
    out_id: "ALICOM_SMART_SAAS^88^2",
    status_code: "200001",
    start_time: "2026-11-21 09:05:00",
    end_time: "2026-11-21 09:05:12",
    duration: 12,
  }),
  voiceReport(3, {
    out_id: "ALICOM_SMART_SAAS^88^3",
    status_code: "200003",
    originate_time: "2026-11-21 09:10:00",
    start_time: "",
    end_time: "",
    duration: "0",
  }),
  // A double call (200100 = answered) across Beijing midnight: its day is the start's.
  voiceReport(4, {
    out_id: "dc-1",
    status_code: "200100",
    start_time: "2026-11-21 23:59:50",
    end_time: "2026-11-22 00:00:35",
    duration: "45",
  }),
  // A code the status table does not know: its status_msg stands in for the meaning.
  voiceReport(5, {
    out_id: "x-5",
    status_code: "502",
    status_msg: "未确认状态",
    originate_time: "2026-11-22 08:00:00",
    start_time: "",
    end_time: "",
    duration: "0",
  }),
  // An IVR survey with three key presses.
  voiceReport(6, {
    out_id: "survey-17",
    status_code: "200000",
    start_time: "2026-11-21 10:00:00",
    end_time: "2026-11-21 10:01:00",
    duration: "60",
    dtmf: "113",
  }),
];

const SURVEY_EVENTS: Receipt[] = ["1", "1", "3"].map((key, i) => ({
  call_id: "500000000006^600000000006",
  out_id: "survey-17",
  status_code: "300000",
  status_time: `2026-11-21 10:00:${10 + i * 10}`,
  dtmf: key,
}));

const byType = receiptsByType();
const ALL_REPORTS = [...byType.VoiceReport!, ...EXTRA_REPORTS];
const ALL_EVENTS = [...byType.VoiceCallReport!, ...SURVEY_EVENTS];
const ALL_RECORDINGS = byType.VoiceRecordReport!;

// ---------------------------------------------------------------------------------------------
// Expected numbers, derived from the receipts with the domain rules (not from SQL).

interface CallFacts {
  callId: string;
  outId: string | null;
  day: string;
  statusCode: string | null;
  statusMsg: string | null;
  answered: boolean;
  talk: number | null;
}

const text = (v: unknown) => (v === undefined || v === null || v === "" ? null : String(v));

function callFacts(): CallFacts[] {
  const ids = new Set(
    [...ALL_REPORTS, ...ALL_EVENTS, ...ALL_RECORDINGS].map((r) => String(r.call_id ?? r.biz_id)),
  );
  return [...ids].map((callId) => {
    const rep = ALL_REPORTS.find((r) => r.call_id === callId);
    const rec = ALL_RECORDINGS.find((r) => r.call_id === callId);
    const events = ALL_EVENTS.filter((e) => (e.call_id ?? e.biz_id) === callId);
    const lastEvent = events
      .map((e) => String(e.status_time))
      .sort()
      .at(-1);
    // The call's day: start, else end, else originate/ring time, else the last event.
    const when =
      text(rep?.start_time) ??
      text(rec?.start_time) ??
      text(rep?.end_time) ??
      text(rec?.end_time) ??
      text(rep?.originate_time) ??
      text(rep?.ring_time) ??
      lastEvent;
    const statusCode = text(rep?.status_code);
    const answered = isAnswered(statusCode);
    return {
      callId,
      outId: text(rep?.out_id) ?? text(events[0]?.out_id),
      day: String(when).slice(0, 10),
      statusCode,
      statusMsg: text(rep?.status_msg),
      answered,
      talk: answered ? Number(rep?.duration) : null,
    };
  });
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function aggregate(calls: CallFacts[]) {
  const answered = calls.filter((c) => c.answered);
  const talk = answered.map((c) => c.talk ?? 0);
  const total = talk.reduce((a, b) => a + b, 0);
  return {
    calls: calls.length,
    answered: answered.length,
    answer_rate: round(answered.length / calls.length, 4),
    total_talk_seconds: total,
    avg_talk_seconds: answered.length > 0 ? round(total / answered.length, 1) : null,
  };
}

const inRange = (day: string, from?: string, to?: string) =>
  (from === undefined || day >= from) && (to === undefined || day <= to);

function expectedDaily(from?: string, to?: string): Row[] {
  const calls = callFacts().filter((c) => inRange(c.day, from, to));
  const days = [...new Set(calls.map((c) => c.day))].sort();
  return days.map((day) => ({ day, ...aggregate(calls.filter((c) => c.day === day)) }));
}

function expectedStatus(from?: string, to?: string): Row[] {
  const calls = callFacts().filter((c) => inRange(c.day, from, to));
  const codes = [...new Set(calls.map((c) => c.statusCode))];
  return codes
    .map((code) => {
      const n = calls.filter((c) => c.statusCode === code).length;
      return {
        status_code: code,
        meaning:
          statusMeaning(code) ??
          calls.find((c) => c.statusCode === code)?.statusMsg ??
          "(no call result yet)",
        calls: n,
        share: round(n / calls.length, 4),
      };
    })
    .sort(
      (a, b) =>
        b.calls - a.calls ||
        (a.status_code === null
          ? 1
          : b.status_code === null
            ? -1
            : a.status_code < b.status_code
              ? -1
              : 1),
    );
}

function expectedRobotTasks(from?: string, to?: string): Row[] {
  const calls = callFacts().filter(
    (c) => c.outId?.startsWith("ALICOM_SMART_SAAS^") && inRange(c.day, from, to),
  );
  const tasks = [...new Set(calls.map((c) => c.outId!.split("^")[1]!))];
  return tasks
    .map((task) => {
      const of = calls.filter((c) => c.outId!.split("^")[1] === task);
      const a = aggregate(of);
      const days = of.map((c) => c.day).sort();
      return {
        task_id: task,
        dialled: a.calls,
        answered: a.answered,
        answer_rate: a.answer_rate,
        total_talk_seconds: a.total_talk_seconds,
        avg_talk_seconds: a.avg_talk_seconds,
        first_day: days[0]!,
        last_day: days.at(-1)!,
      };
    })
    .sort((a, b) =>
      a.first_day < b.first_day
        ? -1
        : a.first_day > b.first_day
          ? 1
          : a.task_id < b.task_id
            ? -1
            : 1,
    );
}

function expectedDtmf(from?: string, to?: string): Row[] {
  const presses = ALL_EVENTS.filter(
    (e) =>
      e.status_code === "300000" &&
      text(e.dtmf) &&
      inRange(String(e.status_time).slice(0, 10), from, to),
  ).flatMap((e) =>
    [...String(e.dtmf)].map((key) => ({
      prefix: String(e.out_id).replace(/[0-9]+$/, ""),
      key,
      callId: String(e.call_id),
    })),
  );
  const groups = new Map<string, { prefix: string; key: string; n: number; calls: Set<string> }>();
  for (const p of presses) {
    const k = `${p.prefix}\u0000${p.key}`;
    const g = groups.get(k) ?? { prefix: p.prefix, key: p.key, n: 0, calls: new Set() };
    g.n++;
    g.calls.add(p.callId);
    groups.set(k, g);
  }
  return [...groups.values()]
    .sort((a, b) => (a.prefix + "\u0000" + a.key < b.prefix + "\u0000" + b.key ? -1 : 1))
    .map((g) => ({ out_id_prefix: g.prefix, key: g.key, presses: g.n, calls: g.calls.size }));
}

// Reconcile outcomes are the reconciler's job; they are set directly for this test.
const RECONCILED = {
  "100000000001^200000000001": { duration_seconds: { receipt: 30, detail: 31 } },
  "500000000001^600000000001": {
    duration_seconds: { receipt: 30, detail: 29 },
    status_code: { receipt: "200000", detail: "200001" },
  },
};

// ---------------------------------------------------------------------------------------------

function sink() {
  let out = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

async function report(
  name: string,
  opts: { from?: string; to?: string; format: "table" | "csv" | "json" },
  arg?: string,
): Promise<string> {
  const out = sink();
  await reportCommand(name, arg, opts, { env: env(), stdout: out.stream });
  return out.text();
}

/** The report in all three formats, each checked against the expected rows. */
async function checkAllFormats(
  name: string,
  expected: Row[],
  opts: { from?: string; to?: string; arg?: string; percent?: string[] } = {},
) {
  const range = {
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.to ? { to: opts.to } : {}),
  };
  const json = JSON.parse(await report(name, { ...range, format: "json" }, opts.arg)) as Row[];
  expect(json, `${name} json`).toEqual(expected);

  const csv = parseCsv(await report(name, { ...range, format: "csv" }, opts.arg));
  const columns = csv[0]!;
  if (expected.length > 0) {
    expect(columns).toEqual(Object.keys(expected[0]!));
  }
  expect(csv.slice(1), `${name} csv`).toEqual(
    expected.map((row) => columns.map((c) => (row[c] === null ? "" : String(row[c])))),
  );

  const table = await report(name, { ...range, format: "table" }, opts.arg);
  const lines = table
    .trimEnd()
    .split("\n")
    .filter((l) => l.startsWith("│") || /^[┌├└]/.test(l));
  expect(new Set(lines.map((l) => stringWidth(l))).size, `${name} table width`).toBe(1);
  const cells = (l: string) =>
    l
      .split("│")
      .slice(1, -1)
      .map((c) => c.trim());
  const body = lines
    .filter((l) => l.startsWith("│"))
    .slice(1)
    .map(cells);
  expect(body, `${name} table`).toEqual(
    expected.map((row) =>
      columns.map((c) => {
        const v: Cell = row[c] ?? null;
        if (v === null) {
          return "";
        }
        if (opts.percent?.includes(c) && typeof v === "number") {
          const p = v * 100;
          return `${Number.isInteger(p) ? p : p.toFixed(2)}%`;
        }
        return String(v);
      }),
    ),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "vr-report-"));
  await writeFile(join(dir, "VoiceReport.json"), JSON.stringify(ALL_REPORTS, null, 1));
  await writeFile(
    join(dir, "VoiceCallReport.ndjson"),
    ALL_EVENTS.map((e) => JSON.stringify(e)).join("\n"),
  );
  await writeFile(join(dir, "VoiceRecordReport.json"), JSON.stringify(ALL_RECORDINGS));
  const summary = await replayCommand(
    [dir],
    { reconcile: true, progress: false },
    { env: env(), stdout: sink().stream, stderr: sink().stream, handleSignals: false },
  );
  expect(summary.rejected).toBe(0);
  for (const [callId, discrepancies] of Object.entries(RECONCILED)) {
    await db.pool.query(
      "update calls set reconcile_status = 'reconciled', reconciled_at = now(), discrepancies = $2 where call_id = $1",
      [callId, JSON.stringify(discrepancies)],
    );
  }
  await db.pool.query(
    "update calls set reconcile_status = 'not_found' where call_id = '500000000005^600000000005'",
  );
  await db.pool.query(
    "update calls set reconcile_status = 'skipped', reconcile_skip_reason = 'replay' where call_id = '100000000004^200000000004'",
  );
});

afterAll(async () => {
  await db?.drop();
  if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

describe("voice-receipts report", () => {
  it("daily: calls, answered, rate, total and average talk per Beijing day", async () => {
    const expected = expectedDaily();
    // The derivation itself, spelled out once.
    expect(expected).toEqual([
      {
        day: "2026-11-20",
        calls: 5,
        answered: 2,
        answer_rate: 0.4,
        total_talk_seconds: 90,
        avg_talk_seconds: 45,
      },
      {
        day: "2026-11-21",
        calls: 5,
        answered: 4,
        answer_rate: 0.8,
        total_talk_seconds: 147,
        avg_talk_seconds: 36.8,
      },
      {
        day: "2026-11-22",
        calls: 1,
        answered: 0,
        answer_rate: 0,
        total_talk_seconds: 0,
        avg_talk_seconds: null,
      },
    ]);
    await checkAllFormats("daily", expected, { percent: ["answer_rate"] });
  });

  it("status: calls per status code with its meaning, Chinese aligned in the table", async () => {
    const expected = expectedStatus();
    expect(expected.map((r) => [r.status_code, r.calls])).toEqual([
      ["200000", 4],
      ["200003", 2],
      [null, 2],
      ["200001", 1],
      ["200100", 1],
      ["502", 1],
    ]);
    expect(expected.find((r) => r.status_code === "502")?.meaning).toBe("未确认状态");
    await checkAllFormats("status", expected, { percent: ["share"] });
  });

  it("robot-tasks: per ALICOM_SMART_SAAS batch", async () => {
    const expected = expectedRobotTasks();
    expect(expected.map((r) => [r.task_id, r.dialled, r.answered, r.answer_rate])).toEqual([
      ["77", 1, 1, 1],
      ["88", 3, 2, 0.6667],
    ]);
    await checkAllFormats("robot-tasks", expected, { percent: ["answer_rate"] });
  });

  it("reconcile: calls per reconcile_status, per skip reason and per disagreeing field", async () => {
    const total = callFacts().length;
    await checkAllFormats("reconcile", [
      { kind: "reconcile_status", name: "pending", calls: total - 4 },
      { kind: "reconcile_status", name: "reconciled", calls: 2 },
      { kind: "reconcile_status", name: "not_found", calls: 1 },
      { kind: "reconcile_status", name: "skipped", calls: 1 },
      { kind: "skip_reason", name: "policy", calls: 0 },
      { kind: "skip_reason", name: "off", calls: 0 },
      { kind: "skip_reason", name: "replay", calls: 1 },
      { kind: "skip_reason", name: "inbound", calls: 0 },
      { kind: "discrepancy", name: "duration_seconds", calls: 2 },
      { kind: "discrepancy", name: "status_code", calls: 1 },
    ]);
  });

  it("dtmf: key presses per out_id prefix", async () => {
    const expected = expectedDtmf();
    expect(expected).toEqual([
      { out_id_prefix: "ivr-", key: "#", presses: 1, calls: 1 },
      { out_id_prefix: "ivr-", key: "1", presses: 1, calls: 1 },
      { out_id_prefix: "ivr-", key: "2", presses: 1, calls: 1 },
      { out_id_prefix: "ivr-", key: "9", presses: 1, calls: 1 },
      { out_id_prefix: "survey-", key: "1", presses: 2, calls: 1 },
      { out_id_prefix: "survey-", key: "3", presses: 1, calls: 1 },
    ]);
    await checkAllFormats("dtmf", expected);
  });

  it("out-id: the call and every event of one out_id, in time order", async () => {
    const call = CALLS[0]!;
    const events = byType.VoiceCallReport!.filter((e) => e.call_id === call.callId);
    const meanings: Record<string, string> = {
      "200101": "开始呼叫",
      "200201": "被叫响铃",
      "200102": "被叫接听",
      "300000": "DTMF按键消息",
      "200100": "呼叫结束",
    };
    const expected: Row[] = [
      {
        call_id: call.callId,
        kind: "call",
        time: "2026-11-20 10:00:01",
        status_code: "200000",
        meaning: "用户听完语音",
        // Not in the CDR; filled from the in-call events.
        smart_status_code: "ANSWERED",
        dtmf: "12#",
        duration_seconds: 30,
        reconcile_status: "reconciled",
        callee: "13800000001",
        record_file: null,
      },
      ...events.map((e) => ({
        call_id: call.callId,
        kind: "event",
        time: String(e.status_time),
        status_code: String(e.status_code),
        meaning: meanings[String(e.status_code)]!,
        smart_status_code: text(e.smart_status_code),
        dtmf: text(e.dtmf),
        duration_seconds: null,
        reconcile_status: null,
        callee: null,
        record_file: null,
      })),
    ];
    await checkAllFormats("out-id", expected, { arg: call.outId });
    await checkAllFormats("out-id", [], { arg: "no-such-out-id" });
  });

  it("filters by Beijing day with --from/--to (inclusive)", async () => {
    await checkAllFormats("daily", expectedDaily("2026-11-21", "2026-11-21"), {
      from: "2026-11-21",
      to: "2026-11-21",
      percent: ["answer_rate"],
    });
    expect(expectedDaily("2026-11-21", "2026-11-21")).toHaveLength(1);
    await checkAllFormats("status", expectedStatus(undefined, "2026-11-20"), {
      to: "2026-11-20",
      percent: ["share"],
    });
    await checkAllFormats("robot-tasks", expectedRobotTasks("2026-11-21"), {
      from: "2026-11-21",
      percent: ["answer_rate"],
    });
    await checkAllFormats("dtmf", expectedDtmf("2026-11-21"), { from: "2026-11-21" });
    await checkAllFormats("out-id", [], { arg: CALLS[0]!.outId, from: "2026-11-21" });
  });

  it("runs as a command: json on stdout, exit 0", async () => {
    const r = await runCli(["report", "daily", "--format", "json"], env());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expectedDaily());
  });

  it("exits 2 with a message on an unknown report, a bad date or a missing out_id", async () => {
    const unknown = await runCli(["report", "weekly"], env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown report "weekly".*daily, status, out-id <out_id>, robot-tasks, reconcile, dtmf/,
    );
    const badDate = await runCli(["report", "daily", "--from", "2026-02-30"], env());
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--from must be a date YYYY-MM-DD.*2026-02-30/);
    const noArg = await runCli(["report", "out-id", "--format", "csv"], env());
    expect(noArg.code).toBe(2);
    expect(noArg.stderr).toMatch(/out-id needs an argument/);
    const badFormat = await runCli(["report", "daily", "--format", "xml"], env());
    expect(badFormat.code).toBe(2);
  });
});
