/**
 * `report` end to end: a known corpus is replayed into a real PostgreSQL, and every report's
 * numbers are checked against numbers derived from the corpus itself (not from SQL), in all
 * three formats, with --from/--to, and with bad arguments exiting 2.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import stringWidth from "string-width";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { replayCommand } from "../../src/cli/replay.js";
import { reportCommand } from "../../src/cli/report.js";
import {
  callOutcome,
  callProduct,
  NUMBER_STATES,
  OUTCOME_MEANINGS,
  OUTCOMES,
  type Outcome,
  type Product,
} from "../../src/domain/callDimensions.js";
import { isAnswered, smartStatusMeaning, statusMeaning } from "../../src/domain/statusCodes.js";
import type { Cell, Row } from "../../src/report/reports.js";
import { CALLS, receiptsByType, type Receipt } from "../fixtures/corpus.js";
import { runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { captureStream } from "../helpers/streams.js";
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
  // Dead numbers: 13900000007 answered once, then 停机 (listed); 13900000009 空号 then answered
  // later (not listed: its latest result is an answer); 13900000010 关机 (unreachable).
  voiceReport(7, {
    callee: "13900000007",
    status_code: "200000",
    start_time: "2026-11-21 11:00:00",
    end_time: "2026-11-21 11:00:20",
    duration: "20",
  }),
  voiceReport(8, {
    callee: "13900000007",
    status_code: "200011",
    originate_time: "2026-11-22 11:00:00",
    start_time: "",
    end_time: "",
    duration: "0",
  }),
  voiceReport(9, {
    callee: "13900000009",
    status_code: "200004",
    originate_time: "2026-11-21 12:00:00",
    start_time: "",
    end_time: "",
    duration: "0",
  }),
  {
    call_id: "500000000010^600000000010",
    callee: "13900000009",
    status_code: "200001",
    start_time: "2026-11-22 12:00:00",
    end_time: "2026-11-22 12:00:05",
    duration: "5",
  },
  {
    call_id: "500000000011^600000000011",
    callee: "13900000010",
    // A generic "cannot reach" code whose smart status code says 关机.
    status_code: "200005",
    smart_status_code: "POWERED_OFF",
    originate_time: "2026-11-22 12:30:00",
    start_time: "",
    end_time: "",
    duration: "0",
  },
  // A smart call (ASR bill), and one reconciled under the verification-code ProdId.
  {
    call_id: "500000000012^600000000012",
    callee: "13900000012",
    status_code: "200000",
    voice_type: "asr",
    start_time: "2026-11-21 15:00:00",
    end_time: "2026-11-21 15:01:00",
    duration: "60",
  },
  {
    call_id: "500000000013^600000000013",
    callee: "13900000013",
    status_code: "200000",
    start_time: "2026-11-21 15:10:00",
    end_time: "2026-11-21 15:10:12",
    duration: "12",
  },
];

/** An inbound call nobody picked up: its events ring and end, with smart code NO_ANSWER. */
const INBOUND_UNANSWERED: Receipt[] = [
  { status_code: "200201", status_time: "2026-11-21 16:00:00", smart_status_code: "NO_ANSWER" },
  { status_code: "200100", status_time: "2026-11-21 16:00:30", smart_status_code: "NO_ANSWER" },
].map((e) => ({ biz_id: "700000000001^800000000001", extend: "1", ...e }));

/** Calls reconciled under a ProdId (set directly: the reconciler's own tests cover how). */
const PROD_IDS: Record<string, string> = {
  "500000000013^600000000013": "11010000138001",
};

const SURVEY_EVENTS: Receipt[] = ["1", "1", "3"].map((key, i) => ({
  call_id: "500000000006^600000000006",
  out_id: "survey-17",
  status_code: "300000",
  status_time: `2026-11-21 10:00:${10 + i * 10}`,
  dtmf: key,
}));

const byType = receiptsByType();
const ALL_REPORTS = [...byType.VoiceReport!, ...EXTRA_REPORTS];
const ALL_EVENTS = [...byType.VoiceCallReport!, ...SURVEY_EVENTS, ...INBOUND_UNANSWERED];
const ALL_RECORDINGS = byType.VoiceRecordReport!;

// ---------------------------------------------------------------------------------------------
// Expected numbers, derived from the receipts with the domain rules (not from SQL).

interface CallFacts {
  callId: string;
  outId: string | null;
  callee: string | null;
  day: string;
  hour: number;
  when: string;
  direction: "outbound" | "inbound";
  product: Product;
  /** The CDR status code; inbound without a CDR: derived from the events. */
  statusCode: string | null;
  meaning: string | null;
  answered: boolean;
  talk: number | null;
  outcome: Outcome | null;
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
    const inbound = events.length > 0 && events.every((e) => e.call_id === undefined);
    const at = (code: string) =>
      events.filter((e) => e.status_code === code).map((e) => String(e.status_time));
    // Inbound: the events tell the result (200102 被叫接听 or ANSWERED = answered).
    const eventAnswered =
      inbound &&
      events.some((e) => e.status_code === "200102" || e.smart_status_code === "ANSWERED");
    const lastSmart = inbound
      ? events
          .filter((e) => text(e.smart_status_code) && e.smart_status_code !== "ANSWERED")
          .sort((a, b) => (String(a.status_time) < String(b.status_time) ? 1 : -1))
          .map((e) => String(e.smart_status_code))[0]
      : undefined;
    const cdrCode = text(rep?.status_code);
    const statusCode = cdrCode ?? (eventAnswered ? "200102" : (lastSmart ?? null));
    const answered = isAnswered(cdrCode) || eventAnswered;
    const seconds = (s: string) => new Date(`${s.replace(" ", "T")}+08:00`).getTime() / 1000;
    const eventTalk =
      at("200100").length > 0 && at("200102").length > 0
        ? seconds(at("200100").sort().at(-1)!) - seconds(at("200102").sort()[0]!)
        : null;
    const dtmf =
      text(rep?.dtmf) ??
      (events
        .filter((e) => e.status_code === "300000")
        .map((e) => String(e.dtmf ?? ""))
        .join("") ||
        null);
    const outId = text(rep?.out_id) ?? text(events[0]?.out_id);
    const smartCode = text(rep?.smart_status_code) ?? text(events[0]?.smart_status_code);
    return {
      callId,
      outId,
      callee: text(rep?.callee),
      day: String(when).slice(0, 10),
      hour: Number(String(when).slice(11, 13)),
      when: String(when),
      direction: inbound ? "inbound" : "outbound",
      product: callProduct({
        direction: inbound ? "inbound" : "outbound",
        outId,
        prodId: PROD_IDS[callId] ?? null,
        smartTrace: rep?.voice_type === "asr" || Boolean(rec?.record_begin_time),
        dtmf,
      }),
      statusCode,
      meaning:
        statusCode === null
          ? null
          : cdrCode === null && answered
            ? "被叫接听"
            : (statusMeaning(statusCode) ??
              smartStatusMeaning(statusCode) ??
              text(rep?.status_msg)),
      answered,
      talk: answered ? (rep ? Number(rep.duration) : eventTalk) : null,
      outcome: callOutcome(answered, statusCode, inbound ? (lastSmart ?? null) : smartCode),
    };
  });
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function aggregate(calls: CallFacts[]) {
  const answered = calls.filter((c) => c.answered);
  const talk = answered.map((c) => c.talk ?? 0);
  const total = talk.reduce((a, b) => a + b, 0);
  // Seized: a result other than a platform refusal before dialling.
  const seized = calls.filter((c) => c.statusCode !== null && c.outcome !== "blocked");
  return {
    calls: calls.length,
    answered: answered.length,
    answer_rate: round(answered.length / calls.length, 4),
    total_talk_seconds: total,
    avg_talk_seconds: answered.length > 0 ? round(total / answered.length, 1) : null,
    seized: seized.length,
    asr:
      seized.length > 0 ? round(seized.filter((c) => c.answered).length / seized.length, 4) : null,
  };
}

const inRange = (day: string, from?: string, to?: string) =>
  (from === undefined || day >= from) && (to === undefined || day <= to);

type Filter = {
  from?: string | undefined;
  to?: string | undefined;
  direction?: string | undefined;
  product?: string | undefined;
};

function selected(f: Filter = {}): CallFacts[] {
  return callFacts().filter(
    (c) =>
      inRange(c.day, f.from, f.to) &&
      (f.direction === undefined || c.direction === f.direction) &&
      (f.product === undefined || c.product === f.product),
  );
}

function expectedDaily(from?: string, to?: string, f: Filter = {}): Row[] {
  const calls = selected({ ...f, from, to });
  const days = [...new Set(calls.map((c) => c.day))].sort();
  return days.map((day) => {
    const of = calls.filter((c) => c.day === day);
    const perHour = [...new Set(of.map((c) => c.hour))].map(
      (h) => of.filter((c) => c.hour === h).length,
    );
    return {
      day,
      ...aggregate(of),
      calls_per_hour: round(of.length / perHour.length, 1),
      peak_hour_calls: Math.max(...perHour),
    };
  });
}

function expectedHourly(f: Filter = {}): Row[] {
  const calls = selected(f);
  const keys = [...new Set(calls.map((c) => `${c.day} ${String(c.hour).padStart(2, "0")}`))].sort();
  return keys.map((k) => {
    const of = calls.filter((c) => `${c.day} ${String(c.hour).padStart(2, "0")}` === k);
    const a = aggregate(of);
    return {
      day: k.slice(0, 10),
      hour: Number(k.slice(11)),
      calls: a.calls,
      answered: a.answered,
      answer_rate: a.answer_rate,
      asr: a.asr,
      avg_talk_seconds: a.avg_talk_seconds,
    };
  });
}

function expectedStatus(from?: string, to?: string, f: Filter = {}): Row[] {
  const calls = selected({ ...f, from, to });
  const codes = [...new Set(calls.map((c) => c.statusCode))];
  return codes
    .map((code) => {
      const n = calls.filter((c) => c.statusCode === code).length;
      return {
        status_code: code,
        meaning: calls.find((c) => c.statusCode === code)?.meaning ?? "(no call result yet)",
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

function expectedOutcomes(f: Filter = {}): Row[] {
  const calls = selected(f);
  const rows: Array<Row & { ord: number }> = OUTCOMES.map((o, i) => {
    const n = calls.filter((c) => c.outcome === o).length;
    return {
      ord: i,
      outcome: o,
      meaning: OUTCOME_MEANINGS[o],
      calls: n,
      share: calls.length ? round(n / calls.length, 4) : null,
    };
  });
  const none = calls.filter((c) => c.outcome === null).length;
  if (none > 0) {
    rows.push({
      ord: 99,
      outcome: null,
      meaning: "(no call result yet)",
      calls: none,
      share: round(none / calls.length, 4),
    });
  }
  return rows
    .sort((a, b) => (b.calls as number) - (a.calls as number) || a.ord - b.ord)
    .map(({ ord: _ord, ...r }) => r);
}

function expectedNumbers(f: Filter = {}): Row[] {
  const calls = selected({ ...f, direction: "outbound" }).filter(
    (c) => c.callee !== null && c.outcome !== null,
  );
  const callees = [...new Set(calls.map((c) => c.callee!))];
  return callees
    .map((callee) => {
      const of = calls
        .filter((c) => c.callee === callee)
        .sort((a, b) => (a.when < b.when ? -1 : 1));
      const last = of.at(-1)!;
      return {
        callee,
        state: NUMBER_STATES[last.outcome!] ?? null,
        outcome: last.outcome,
        meaning: OUTCOME_MEANINGS[last.outcome!],
        calls: of.length,
        dead_or_unreachable: of.filter((c) => NUMBER_STATES[c.outcome!] !== undefined).length,
        last_call: last.when,
        last_status_code: last.statusCode,
      };
    })
    .filter((r) => r.state !== null)
    .sort((a, b) =>
      a.state !== b.state
        ? a.state! < b.state!
          ? -1
          : 1
        : OUTCOMES.indexOf(a.outcome!) - OUTCOMES.indexOf(b.outcome!) ||
          (a.callee < b.callee ? -1 : 1),
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

const sink = captureStream;

async function report(
  name: string,
  opts: Filter & { format: "table" | "csv" | "json"; bom?: boolean },
  arg?: string,
  stdout?: { columns: number },
): Promise<string> {
  const out = sink();
  if (stdout) {
    Object.assign(out.stream, { isTTY: true, columns: stdout.columns });
  }
  await reportCommand(name, arg, opts, { env: env(), stdout: out.stream });
  return out.text();
}

/** The report in all three formats, each checked against the expected rows. */
async function checkAllFormats(
  name: string,
  expected: Row[],
  opts: Filter & { arg?: string; percent?: string[] } = {},
) {
  const range = {
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.to ? { to: opts.to } : {}),
    ...(opts.direction ? { direction: opts.direction } : {}),
    ...(opts.product ? { product: opts.product } : {}),
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
          return `${(v * 100).toFixed(2)}%`;
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
  for (const [callId, prodId] of Object.entries(PROD_IDS)) {
    await db.pool.query("update calls set prod_id = $2 where call_id = $1", [callId, prodId]);
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
  it("daily: calls, answered, rate, talk, seizures, ASR and calls per hour per Beijing day", async () => {
    const expected = expectedDaily();
    // The derivation itself, spelled out once. 2026-11-20: the inbound call answered (200102
    // event, 110 s from answer to hang-up) counts; ivr-0005 has no result, so 4 seizures.
    expect(expected).toEqual([
      {
        day: "2026-11-20",
        calls: 5,
        answered: 3,
        answer_rate: 0.6,
        total_talk_seconds: 200,
        avg_talk_seconds: 66.7,
        seized: 4,
        asr: 0.75,
        calls_per_hour: 1,
        peak_hour_calls: 1,
      },
      {
        day: "2026-11-21",
        calls: 10,
        answered: 7,
        answer_rate: 0.7,
        total_talk_seconds: 239,
        avg_talk_seconds: 34.1,
        seized: 10,
        asr: 0.7,
        calls_per_hour: 1.4,
        peak_hour_calls: 3,
      },
      {
        day: "2026-11-22",
        calls: 4,
        answered: 1,
        answer_rate: 0.25,
        total_talk_seconds: 5,
        avg_talk_seconds: 5,
        seized: 4,
        asr: 0.25,
        calls_per_hour: 1.3,
        peak_hour_calls: 2,
      },
    ]);
    await checkAllFormats("daily", expected, { percent: ["answer_rate", "asr"] });
  });

  it("counts an inbound call answered by its events (200102 被叫接听), not as without result", async () => {
    const json = async (name: string, f: Filter) =>
      JSON.parse(await report(name, { ...f, format: "json" })) as Row[];
    expect(await json("status", { direction: "inbound" })).toEqual([
      { status_code: "200102", meaning: "被叫接听", calls: 1, share: 0.5 },
      { status_code: "NO_ANSWER", meaning: "无应答", calls: 1, share: 0.5 },
    ]);
    const inbound = await json("daily", {
      direction: "inbound",
      from: "2026-11-20",
      to: "2026-11-20",
    });
    expect(inbound).toMatchObject([{ calls: 1, answered: 1, total_talk_seconds: 110 }]);
    await checkAllFormats(
      "status",
      expectedStatus(undefined, undefined, { direction: "inbound" }),
      {
        direction: "inbound",
        percent: ["share"],
      },
    );
  });

  it("status: calls per status code with its meaning, Chinese aligned in the table", async () => {
    const expected = expectedStatus();
    expect(expected.map((r) => [r.status_code, r.calls])).toEqual([
      ["200000", 7],
      ["200001", 2],
      ["200003", 2],
      ["200004", 1],
      ["200005", 1],
      ["200011", 1],
      ["200100", 1],
      ["200102", 1],
      ["502", 1],
      ["NO_ANSWER", 1],
      [null, 1],
    ]);
    expect(expected.find((r) => r.status_code === "502")?.meaning).toBe("未确认状态");
    await checkAllFormats("status", expected, { percent: ["share"] });
  });

  it("filters every report by --direction and --product", async () => {
    const products = [...new Set(callFacts().map((c) => c.product))].sort();
    // The corpus has every product but a plain notification-only one missing would hide a bug.
    expect(products).toEqual(["inbound", "ivr", "notification", "robot", "smart", "verification"]);
    for (const product of products) {
      await checkAllFormats("daily", expectedDaily(undefined, undefined, { product }), {
        product,
        percent: ["answer_rate", "asr"],
      });
      await checkAllFormats("outcomes", expectedOutcomes({ product }), {
        product,
        percent: ["share"],
      });
    }
    await checkAllFormats("hourly", expectedHourly({ direction: "outbound" }), {
      direction: "outbound",
      percent: ["answer_rate", "asr"],
    });
    await checkAllFormats("status", expectedStatus(undefined, undefined, { product: "ivr" }), {
      product: "ivr",
      percent: ["share"],
    });
    const dtmfInbound = JSON.parse(
      await report("dtmf", { direction: "inbound", format: "json" }),
    ) as Row[];
    expect(dtmfInbound).toEqual([]);
    const psql = await db.pool.query<{ product: string; calls: number }>(
      "select product, sum(calls)::int as calls from report_daily_dimensions group by product order by product",
    );
    expect(psql.rows).toEqual(
      products.map((p) => ({
        product: p,
        calls: callFacts().filter((c) => c.product === p).length,
      })),
    );
  });

  it("outcomes: calls per carrier meaning (空号, 停机, 关机, 忙, 无人接听, 拒接…)", async () => {
    const expected = expectedOutcomes();
    expect(
      Object.fromEntries(expected.filter((r) => r.calls).map((r) => [r.meaning, r.calls])),
    ).toEqual({
      接通: 11,
      无人接听: 3,
      空号: 1,
      停机: 1,
      关机: 1,
      其他: 1,
      "(no call result yet)": 1,
    });
    await checkAllFormats("outcomes", expected, { percent: ["share"] });
  });

  it("numbers: callees whose latest result says the number is dead or unreachable", async () => {
    const expected = expectedNumbers();
    expect(expected.map((r) => [r.callee, r.state, r.meaning])).toEqual([
      ["13900000007", "dead", "停机"],
      ["13900000010", "unreachable", "关机"],
    ]);
    await checkAllFormats("numbers", expected);
    await checkAllFormats("numbers", expectedNumbers({ to: "2026-11-21" }), { to: "2026-11-21" });
  });

  it("hourly: calls per Beijing hour", async () => {
    const expected = expectedHourly();
    expect(expected.reduce((a, r) => a + (r.calls as number), 0)).toBe(callFacts().length);
    await checkAllFormats("hourly", expected, { percent: ["answer_rate", "asr"] });
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
      { kind: "skip_reason", name: "unsupported", calls: 0 },
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

  it("out-id: the table fits a 100-column terminal, long URLs elided; CSV and JSON keep them whole", async () => {
    const robot = CALLS.find((c) => c.outId.startsWith("ALICOM_SMART_SAAS^"))!;
    const url = String(robot.recordings[0]!.record_file);
    expect(url.length).toBeGreaterThan(60);
    const json = JSON.parse(await report("out-id", { format: "json" }, robot.outId)) as Row[];
    expect(json.map((r) => r.record_file)).toContain(url);
    expect(await report("out-id", { format: "csv" }, robot.outId)).toContain(url);
    const piped = await report("out-id", { format: "table" }, robot.outId);
    expect(piped).not.toContain(url);
    expect(piped).toMatch(/http:\/\/example\.invalid\/\S*…\S*Signature=b/);
    const terminal = await report("out-id", { format: "table" }, robot.outId, { columns: 100 });
    const lines = terminal.trimEnd().split("\n");
    expect(Math.max(...lines.map((l) => stringWidth(l)))).toBeLessThanOrEqual(100);
    // Too wide for 100 columns even elided: one record per block, every value readable.
    expect(terminal).toContain(`call_id           │ ${robot.callId}`);
    expect(terminal).toMatch(/record_file\s+│ http:\/\/example\.invalid\/\S*…\S*Signature=b/);
    // A narrow report still fits as a table.
    const status = await report("status", { format: "table" }, undefined, { columns: 100 });
    expect(status).toMatch(/^┌/);
  });

  it("csv: --bom starts with a UTF-8 byte order mark for Excel; plain csv has none", async () => {
    const plain = await report("status", { format: "csv" });
    expect(plain.startsWith("status_code,")).toBe(true);
    const bom = await report("status", { format: "csv", bom: true });
    expect(bom.startsWith("\uFEFFstatus_code,")).toBe(true);
    expect(bom.slice(1)).toBe(plain);
    const r = await runCli(["report", "status", "--bom"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--bom applies to --format csv only/);
    const viaCli = await runCli(["report", "status", "--format", "csv", "--bom"], env());
    expect(viaCli.code).toBe(0);
    expect(viaCli.stdout.startsWith("\uFEFF")).toBe(true);
  });

  it("filters by Beijing day with --from/--to (inclusive)", async () => {
    await checkAllFormats("daily", expectedDaily("2026-11-21", "2026-11-21"), {
      from: "2026-11-21",
      to: "2026-11-21",
      percent: ["answer_rate", "asr"],
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
      /unknown report "weekly".*daily, hourly, status, outcomes, numbers, out-id <out_id>, robot-tasks, reconcile, dtmf/,
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

  it("exits 2 with a message on a bad --direction or --product, or one the report does not take", async () => {
    const badDirection = await runCli(["report", "daily", "--direction", "sideways"], env());
    expect(badDirection.code).toBe(2);
    expect(badDirection.stderr).toMatch(/--direction must be one of outbound, inbound/);
    const badProduct = await runCli(["report", "status", "--product", "fax"], env());
    expect(badProduct.code).toBe(2);
    expect(badProduct.stderr).toMatch(
      /--product must be one of notification, verification, ivr, smart, robot, inbound/,
    );
    const noDirection = await runCli(["report", "numbers", "--direction", "inbound"], env());
    expect(noDirection.code).toBe(2);
    expect(noDirection.stderr).toMatch(/numbers does not take --direction/);
  });
});
