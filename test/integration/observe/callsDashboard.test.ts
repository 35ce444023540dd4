/**
 * deploy/grafana/voice-receipts-calls.json against a migrated PostgreSQL: a small corpus designed
 * for the dashboard is replayed (the `replay` command, the real intake and persistence), two
 * calls get reconcile results as the reconciler writes them, and every panel's SQL — with
 * Grafana's time macros expanded for a range — returns the numbers worked out by hand below.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { replayCommand } from "../../../src/cli/replay.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";

const DASHBOARD = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../../deploy/grafana/voice-receipts-calls.json",
);

interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets: { rawSql: string; format: string; datasource?: { uid: string } }[];
}

// Beijing times. 2026-11-21: robot task 77 (answered, answered early, not answered) and an IVR
// survey with keys 1 and 2 answered; 2026-11-22: a busy callee and an answered notice.
// 2026-11-25 is outside the range the panels are asked about.
const report = (n: number, fields: Record<string, unknown>) => ({
  call_id: `70000000000${n}^80000000000${n}`,
  caller: "05712000000",
  callee: `1390000000${n}`,
  ...fields,
});
const REPORTS = [
  report(1, {
    out_id: "ALICOM_SMART_SAAS^77^1",
    status_code: "200000",
    start_time: "2026-11-21 09:00:00",
    end_time: "2026-11-21 09:00:30",
    duration: "30",
  }),
  report(2, {
    out_id: "ALICOM_SMART_SAAS^77^2",
    status_code: "200001",
    start_time: "2026-11-21 09:05:00",
    end_time: "2026-11-21 09:05:12",
    duration: "12",
  }),
  report(3, {
    out_id: "ALICOM_SMART_SAAS^77^3",
    status_code: "200003",
    originate_time: "2026-11-21 09:10:00",
    duration: "0",
  }),
  report(4, {
    out_id: "survey-3",
    status_code: "200000",
    start_time: "2026-11-21 10:00:00",
    end_time: "2026-11-21 10:01:00",
    duration: "60",
    dtmf: "12",
  }),
  report(5, {
    out_id: "notice-8",
    status_code: "200002",
    originate_time: "2026-11-22 08:00:00",
    duration: "0",
  }),
  report(6, {
    out_id: "notice-9",
    status_code: "200000",
    start_time: "2026-11-22 11:00:00",
    end_time: "2026-11-22 11:00:20",
    duration: "20",
  }),
  report(7, {
    out_id: "notice-10",
    status_code: "200000",
    start_time: "2026-11-25 11:00:00",
    end_time: "2026-11-25 11:00:40",
    duration: "40",
  }),
];
const EVENTS = ["1", "2"].map((key, i) => ({
  call_id: "700000000004^800000000004",
  out_id: "survey-3",
  status_code: "300000",
  status_time: `2026-11-21 10:00:${10 + i * 10}`,
  dtmf: key,
}));

/** Grafana's macros for the range 2026-11-20 00:00 – 2026-11-23 23:59:59 Beijing time. */
const expand = (sql: string) =>
  sql
    .replaceAll("$__timeFrom()", "'2026-11-19T16:00:00Z'")
    .replaceAll("$__timeTo()", "'2026-11-23T15:59:59Z'");

let db: TestDatabase;
let panels: Panel[];

function sink(): NodeJS.WriteStream {
  return new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "vr-calls-dashboard-"));
  try {
    await writeFile(join(dir, "VoiceReport.json"), JSON.stringify(REPORTS));
    await writeFile(join(dir, "VoiceCallReport.json"), JSON.stringify(EVENTS));
    const summary = await replayCommand(
      [dir],
      { reconcile: true, progress: false },
      {
        env: { DATABASE_URL: db.url, REDIS_URL: inject("redisUrl"), LOG_LEVEL: "warn" },
        stdout: sink(),
        stderr: sink(),
        handleSignals: false,
      },
    );
    expect(summary.rejected).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // As the reconciler leaves them: one call agreed, one disagreed on its duration.
  await db.pool.query(
    `update calls set reconcile_status = 'reconciled', reconciled_at = now(),
            discrepancies = case call_id when $2 then '{"duration_seconds":{"receipt":60,"detail":61}}'::jsonb
                                 else '{}'::jsonb end
      where call_id = any($1)`,
    [["700000000001^800000000001", "700000000004^800000000004"], "700000000004^800000000004"],
  );
  panels = (JSON.parse(await readFile(DASHBOARD, "utf8")) as { panels: Panel[] }).panels;
});
afterAll(async () => {
  await db?.drop();
});

async function rows(title: string): Promise<Record<string, unknown>[]> {
  const panel = panels.find((p) => p.title === title);
  expect(panel, `panel "${title}"`).toBeDefined();
  const { rows } = await db.pool.query({ text: expand(panel!.targets[0]!.rawSql), types });
  return rows;
}

/** numeric and bigint as numbers (pg gives text), dates as their text (no time zone games). */
const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 1700 || oid === 20
      ? (v: string) => Number(v)
      : oid === 1082
        ? (v: string) => v
        : pg.types.getTypeParser(oid, format),
} as pg.CustomTypesConfig;

const day = (d: string) => new Date(`${d}T00:00:00+08:00`);

describe("deploy/grafana/voice-receipts-calls.json", () => {
  it("is importable as is: a PostgreSQL datasource variable, no fixed datasource uid", async () => {
    const d = JSON.parse(await readFile(DASHBOARD, "utf8")) as {
      templating: { list: { name: string; type: string; query: string }[] };
    };
    expect(d.templating.list.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "grafana-postgresql-datasource",
    });
    for (const p of panels) {
      expect(p.description, `${p.title}: the question it answers`).toBeTruthy();
      expect(p.datasource, p.title).toEqual({
        type: "grafana-postgresql-datasource",
        uid: "${datasource}",
      });
      expect(
        p.targets.every((t) => t.datasource?.uid === "${datasource}"),
        p.title,
      ).toBe(true);
    }
  });

  it("runs every panel's SQL", async () => {
    for (const p of panels) {
      for (const target of p.targets) {
        await expect(db.pool.query(expand(target.rawSql)), p.title).resolves.toBeDefined();
      }
    }
  });

  it("counts calls, answers and talk time in the range", async () => {
    expect(await rows("Calls in the range")).toEqual([{ calls: 6 }]);
    expect(await rows("Answer rate in the range")).toEqual([{ answer_rate: 0.6667 }]);
    expect(await rows("Talk time in the range")).toEqual([{ talk_seconds: 122 }]);
    expect(await rows("Calls waiting for reconcile")).toEqual([{ pending: 4 }]);
  });

  it("gives calls, answer rate and talk time per Beijing day", async () => {
    expect(await rows("Calls and answered calls per day")).toEqual([
      { time: day("2026-11-21"), calls: 4, answered: 3 },
      { time: day("2026-11-22"), calls: 2, answered: 1 },
    ]);
    expect(await rows("Answer rate per day")).toEqual([
      { time: day("2026-11-21"), answer_rate: 0.75 },
      { time: day("2026-11-22"), answer_rate: 0.5 },
    ]);
    expect(await rows("Talk time per day")).toEqual([
      { time: day("2026-11-21"), total_talk_seconds: 102, avg_talk_seconds: 34 },
      { time: day("2026-11-22"), total_talk_seconds: 20, avg_talk_seconds: 20 },
    ]);
  });

  it("breaks calls down by status with the meaning of each code", async () => {
    expect(await rows("Status breakdown")).toEqual([
      { status_code: "200000", meaning: "用户听完语音", calls: 3, share: 0.5 },
      { status_code: "200001", meaning: "用户提前挂机未完整收听", calls: 1, share: 0.1667 },
      { status_code: "200002", meaning: "用户占线", calls: 1, share: 0.1667 },
      { status_code: "200003", meaning: "用户收到呼叫但未接听", calls: 1, share: 0.1667 },
    ]);
  });

  it("sums up robot-task batches", async () => {
    expect(await rows("Robot-task batches")).toEqual([
      {
        task_id: "77",
        dialled: 3,
        answered: 2,
        answer_rate: 0.6667,
        total_talk_seconds: 42,
        avg_talk_seconds: 21,
        first_day: "2026-11-21",
        last_day: "2026-11-21",
      },
    ]);
  });

  it("counts reconcile outcomes, discrepancies and key presses", async () => {
    expect(await rows("Reconcile outcomes")).toEqual([
      { reconcile_status: "pending", calls: 4 },
      { reconcile_status: "reconciled", calls: 2 },
      { reconcile_status: "not_found", calls: 0 },
      { reconcile_status: "skipped", calls: 0 },
    ]);
    expect(await rows("Discrepancies by field")).toEqual([{ field: "duration_seconds", calls: 1 }]);
    expect(await rows("DTMF key presses")).toEqual([
      { out_id_prefix: "survey-", key: "1", presses: 1, calls: 1 },
      { out_id_prefix: "survey-", key: "2", presses: 1, calls: 1 },
    ]);
  });
});
