/**
 * Month partitions of receipts and call_events (migration 0005, src/store/partitions.ts,
 * `prune`): dedup across a partition boundary, partitions created ahead by concurrent
 * processes, prune keeping reports of the retained period, and the migration of an
 * unpartitioned database.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";

import { cutoffOf, parseRetention, pruneCommand } from "../../src/cli/prune.js";
import { replayCommand } from "../../src/cli/replay.js";
import { loadConfig } from "../../src/config/index.js";
import { createRedis } from "../../src/infra/redis.js";
import { createLogger } from "../../src/logger.js";
import { createMetrics } from "../../src/ops/metrics.js";
import { createIntake } from "../../src/pipeline/intake.js";
import { openBoundQueues, type PipelineQueues } from "../../src/pipeline/queues.js";
import { findReport, reportParams, runReport } from "../../src/report/reports.js";
import { MIGRATIONS_DIR, runMigrations } from "../../src/store/migrate.js";
import {
  beijingMonth,
  ensurePartitions,
  monthStart,
  prunePartitions,
} from "../../src/store/partitions.js";
import { insertReceipts } from "../../src/store/receipts/insert.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { processEnv, runCli } from "../helpers/cli.js";
import { createTestDatabase, databaseUrlFor, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { captureStream, discardStream } from "../helpers/streams.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let app: TestApp;
let dir: string;
const prefix = randomPrefix();
const env = () => processEnv(db.url, prefix, { LOG_LEVEL: "warn" });

beforeAll(async () => {
  db = await createTestDatabase();
  // No sweep during the test: the receipt left unprocessed on purpose (prune) must stay so.
  app = await startTestApp({ databaseUrl: db.url, prefix, sweep: { intervalMs: 3_600_000 } });
  dir = await mkdtemp(join(tmpdir(), "vr-partitions-"));
});
afterAll(async () => {
  await app?.stop();
  await deleteKeysWithPrefix(prefix);
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const sink = discardStream;

async function push(type: string, items: unknown[]): Promise<void> {
  const res = await fetch(`${app.url}/push/${type}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(items),
  });
  expect(res.status).toBe(200);
}

async function replay(name: string, type: string, items: unknown[]) {
  const file = join(dir, name);
  await writeFile(file, items.map((i) => JSON.stringify(i)).join("\n"));
  return replayCommand(
    [file],
    { reconcile: true, type, progress: false },
    { env: env(), stdout: sink(), stderr: sink(), handleSignals: false },
  );
}

async function rows<T = Record<string, unknown>>(text: string, values: unknown[] = []) {
  return (await db.pool.query(text, values)).rows as T[];
}

async function allProcessed(): Promise<boolean> {
  const [r] = await rows<{ n: number }>(
    "select count(*)::int as n from receipts where processed_at is null",
  );
  return r?.n === 0;
}

/** Intake with its own clock (the arrival time of receipts without a time of their own). */
function intakeAt(queues: PipelineQueues, clock: () => Date) {
  return createIntake({
    pool: db.pool,
    queues,
    metrics: createMetrics(),
    logger: createLogger({ level: "silent" }),
    clock,
  });
}

async function withQueues<T>(fn: (q: PipelineQueues) => Promise<T>): Promise<T> {
  const config = loadConfig(env());
  const redis = createRedis(inject("redisUrl"), "producer");
  const queues = await openBoundQueues(config, redis, db.pool);
  try {
    return await fn(queues);
  } finally {
    await queues.close();
    await redis.quit();
  }
}

describe("months and durations", () => {
  it("puts an instant in its Beijing month", () => {
    expect(beijingMonth(new Date("2026-10-31T15:59:59Z"))).toBe("2026-10-01");
    expect(beijingMonth(new Date("2026-10-31T16:00:00Z"))).toBe("2026-11-01");
    expect(beijingMonth(new Date("2026-12-15T00:00:00Z"), 2)).toBe("2027-02-01");
    expect(monthStart("2026-11-01").toISOString()).toBe("2026-10-31T16:00:00.000Z");
  });

  it("reads retention durations and refuses anything else", () => {
    const now = new Date("2026-05-31T12:00:00Z");
    expect(cutoffOf(parseRetention("90d"), now).toISOString()).toBe("2026-03-02T12:00:00.000Z");
    expect(cutoffOf(parseRetention("2w"), now).toISOString()).toBe("2026-05-17T12:00:00.000Z");
    expect(cutoffOf(parseRetention("6mo"), now).toISOString()).toBe("2025-11-30T12:00:00.000Z");
    expect(cutoffOf(parseRetention("3mo"), now).toISOString()).toBe("2026-02-28T12:00:00.000Z");
    expect(cutoffOf(parseRetention("1y"), new Date("2028-02-29T00:00:00Z")).toISOString()).toBe(
      "2027-02-28T00:00:00.000Z",
    );
    expect(cutoffOf(parseRetention("1y"), now).toISOString()).toBe("2025-05-31T12:00:00.000Z");
    expect(cutoffOf(parseRetention("36h"), now).toISOString()).toBe("2026-05-30T00:00:00.000Z");
    for (const bad of ["", "90", "d", "0d", "-5d", "1.5d", "6m", "6 mo", "90x"]) {
      expect(() => parseRetention(bad), bad).toThrow(/h, d, w, mo or y/);
    }
  });
});

describe("dedup across month partitions", () => {
  beforeAll(async () => {
    // October, November and December 2026 (the boundary below), whatever today is.
    await ensurePartitions(db.pool, { now: new Date("2026-10-15T00:00:00+08:00") });
  });

  it("keeps one receipt and one effect when a retry lands in the next month", async () => {
    const callId = "710000000001^810000000001";
    const cdr = {
      call_id: callId,
      status_code: "200000",
      status_msg: "用户听完语音",
      out_id: "boundary-1",
      start_time: "2026-10-31 23:59:20",
      end_time: "2026-10-31 23:59:50",
      duration: "30",
    };
    // First delivery by HTTP push in the last minute of October (Beijing)…
    await push("VoiceReport", [cdr]);
    await waitFor(allProcessed, { what: "the CDR applied" });
    // …the retry, by replay, says the call ended in the first minute of November (a field the
    // VoiceReport key, call_id alone, does not cover), so its own time is in the next partition.
    const summary = await replay("retry.ndjson", "VoiceReport", [
      { ...cdr, end_time: "2026-11-01 00:00:20", duration: 60 },
    ]);
    expect(summary).toMatchObject({ accepted: 0, duplicates: 1 });

    const receipts = await rows<{ part: string; source: string }>(
      "select tableoid::regclass::text as part, source from receipts where call_id = $1",
      [callId],
    );
    expect(receipts).toEqual([{ part: "receipts_p2026_10", source: "http" }]);
    const calls = await rows<{ end_time: Date; duration_seconds: number }>(
      "select end_time, duration_seconds from calls where call_id = $1",
      [callId],
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]?.end_time.toISOString()).toBe("2026-10-31T15:59:50.000Z");
    expect(calls[0]?.duration_seconds).toBe(30);
  });

  it("collapses an event and a recording delivered again across the boundary", async () => {
    const callId = "710000000002^810000000002";
    const event = {
      call_id: callId,
      status_code: "300000",
      status_time: "2026-10-31 23:59:59",
      dtmf: "5",
      out_id: "boundary-2",
    };
    const recording = {
      call_id: callId,
      record_file: "https://oss.example.com/rec/2.wav?Expires=1&Signature=a",
      start_time: "2026-10-31 23:59:30",
      end_time: "2026-10-31 23:59:58",
      duration: "28",
      out_id: "boundary-2",
    };
    await push("VoiceCallReport", [event]);
    await push("VoiceRecordReport", [recording]);
    await waitFor(allProcessed, { what: "event and recording applied" });
    await push("VoiceCallReport", [event]);
    // Re-signed URL and a later end time: the same recording (same object path).
    const again = await replay("retry-rec.ndjson", "VoiceRecordReport", [
      {
        ...recording,
        record_file: "https://oss.example.com/rec/2.wav?Expires=2&Signature=b",
        end_time: "2026-11-01 00:00:02",
      },
    ]);
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
    await waitFor(allProcessed, { what: "retries settled" });

    const [counts] = await rows<{ receipts: number; events: number; recordings: number }>(
      `select (select count(*)::int from receipts where call_id = $1) as receipts,
              (select count(*)::int from call_events where call_id = $1) as events,
              (select count(*)::int from recordings where call_id = $1) as recordings`,
      [callId],
    );
    expect(counts).toEqual({ receipts: 2, events: 1, recordings: 1 });
  });

  it("dedups a receipt without a time of its own whose retry arrives next month", async () => {
    // An unknown type has no time fields: its partition is that of its first arrival.
    const body = { call_id: "710000000003^810000000003", note: "kept as is" };
    const results = await withQueues(async (queues) => {
      const before = intakeAt(queues, () => new Date("2026-10-31T23:59:58+08:00"));
      const after = intakeAt(queues, () => new Date("2026-11-01T00:00:30+08:00"));
      const first = await before.accept({
        source: "mns",
        messageType: "VoiceFutureReport",
        items: [{ raw: body }],
      });
      await waitFor(allProcessed, { what: "first delivery applied" });
      const second = await after.accept({
        source: "http",
        messageType: "VoiceFutureReport",
        items: [{ raw: { note: "kept as is", call_id: "710000000003^810000000003" } }],
      });
      return [first, second];
    });
    expect(results.map((r) => [r.accepted, r.duplicates])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    const receipts = await rows(
      "select tableoid::regclass::text as part from receipts where message_type = 'VoiceFutureReport'",
    );
    expect(receipts).toEqual([{ part: "receipts_p2026_10" }]);
  });
});

describe("partitions created ahead", () => {
  const attached = async (like: string) =>
    (
      await rows<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent in ('receipts'::regclass, 'call_events'::regclass,
                                'events'::regclass, 'deliveries'::regclass)
            and c.relname like $1 order by 1`,
        [like],
      )
    ).map((r) => r.name);

  it("creates this month and the next two once, with two processes racing", async () => {
    const now = new Date("2031-03-15T12:00:00+08:00");
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
    try {
      const created = await Promise.all(pools.map((p) => ensurePartitions(p, { now })));
      const expected = ["call_events", "deliveries", "events", "receipts"].flatMap((t) =>
        ["03", "04", "05"].map((m) => `${t}_p2031_${m}`),
      );
      // Each partition created by exactly one of them, and all of them attached.
      expect(created.flat().sort()).toEqual(expected);
      expect(await attached("%p2031%")).toEqual(expected);
      expect(await ensurePartitions(pools[0]!, { now })).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("moves rows of a month out of the default partition when the month is created", async () => {
    const cdr = {
      call_id: "720000000001^820000000001",
      status_code: "200000",
      end_time: "2032-01-10 08:00:00",
    };
    await push("VoiceReport", [cdr]);
    await waitFor(allProcessed, { what: "the far-future CDR applied" });
    const where = "select tableoid::regclass::text as part, id from receipts where call_id = $1";
    const [before] = await rows<{ part: string; id: string }>(where, [cdr.call_id]);
    expect(before?.part).toBe("receipts_default");

    const created = await ensurePartitions(db.pool, {
      now: new Date("2031-11-20T00:00:00+08:00"),
    });
    expect(created).toContain("receipts_p2032_01");
    const [after] = await rows<{ part: string; id: string }>(where, [cdr.call_id]);
    expect(after).toEqual({ part: "receipts_p2032_01", id: before?.id });
    // Still one receipt for its key.
    await push("VoiceReport", [cdr]);
    expect(await rows(where, [cdr.call_id])).toHaveLength(1);
  });
});

describe("prune", () => {
  const MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"];
  const cutoff = monthStart("2025-03-01");

  /** Per month: an answered robot call with a key press and a recording, and a busy one. */
  function corpus(month: string, m: number) {
    const cdrs: unknown[] = [];
    const events: unknown[] = [];
    const recs: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const callId = `73000000${m}00${i}^83000000${m}00${i}`;
      const outId = `ALICOM_SMART_SAAS^task${m}^${i}`;
      const at = (s: string) => `${month}-1${i} 10:00:${s}`;
      const answered = i !== 2;
      cdrs.push({
        call_id: callId,
        out_id: outId,
        status_code: answered ? "200000" : "200002",
        start_time: at("10"),
        end_time: at("40"),
        duration: answered ? "30" : "0",
      });
      events.push(
        { call_id: callId, out_id: outId, status_code: "200101", status_time: at("01") },
        {
          call_id: callId,
          out_id: outId,
          status_code: "300000",
          status_time: at("20"),
          dtmf: `${i}`,
        },
      );
      recs.push({
        call_id: callId,
        out_id: outId,
        record_file: `https://oss.example.com/rec/${callId}.wav`,
        start_time: at("10"),
        end_time: at("40"),
        duration: "30",
      });
    }
    return { cdrs, events, recs };
  }

  async function reports(from: string | null, to: string | null) {
    const out: Record<string, unknown> = {};
    for (const name of ["daily", "status", "robot-tasks", "reconcile", "dtmf"]) {
      const report = findReport(name);
      out[name] = (
        await runReport(
          db.pool,
          report,
          reportParams(report, undefined, { from: from ?? undefined, to: to ?? undefined }),
        )
      ).rows;
    }
    const outId = findReport("out-id");
    out["out-id"] = (
      await runReport(db.pool, outId, reportParams(outId, "ALICOM_SMART_SAAS^task3^0", {}))
    ).rows;
    return out;
  }

  it("drops old months, refuses one with unapplied receipts, and keeps reports of the rest", async () => {
    await ensurePartitions(db.pool, { now: new Date("2024-12-15T00:00:00+08:00") });
    await ensurePartitions(db.pool, { now: new Date("2025-03-15T00:00:00+08:00") });
    for (const [m, month] of MONTHS.entries()) {
      const c = corpus(month, m + 1);
      await push("VoiceCallReport", c.events);
      await push("VoiceRecordReport", c.recs);
      await push("VoiceReport", c.cdrs);
    }
    await waitFor(allProcessed, { what: "corpus applied" });
    // Reconcile is off here: its loop marks the new calls skipped; let it finish first.
    await waitFor(
      async () =>
        (await rows("select 1 from calls where reconcile_status = 'pending' limit 1")).length === 0,
      { what: "calls marked skipped" },
    );
    // December 2024: durable, acknowledged, never applied (its job is not queued).
    await insertReceipts(db.pool, [
      {
        dedupKey: `r${"d".repeat(64)}`,
        messageType: "VoiceReport",
        source: "http",
        callId: "739999999999^839999999999",
        outId: null,
        statusCode: "200000",
        eventTime: new Date("2024-12-20T10:00:00+08:00"),
        bodyJson: '{"call_id":"739999999999^839999999999","status_code":"200000"}',
      },
    ]);

    const retained = await reports("2025-03-01", null);
    const older = await reports(null, "2025-02-28");
    expect((older.dtmf as unknown[]).length).toBeGreaterThan(0);
    const count = async (t: string) =>
      (await rows<{ n: number }>(`select count(*)::int as n from ${t}`))[0]?.n;
    const callsBefore = await rows("select * from calls order by call_id");
    const recordingsBefore = await rows("select * from recordings order by id");
    const rejectedBefore = await count("rejected_receipts");

    // A dry run lists what would go and changes nothing.
    const dry = captureStream();
    // now 2025-05-01 00:00 +08 minus 2 months = 2025-03-01 00:00 +08, the cutoff.
    const now = new Date("2025-05-01T00:00:00+08:00");
    await pruneCommand(
      { olderThan: parseRetention("2mo"), dryRun: true },
      { env: env(), stdout: dry.stream, now },
    );
    expect(dry.text()).toContain("would drop receipts_p2025_01 (receipts, 2025-01)");
    expect(dry.text()).toContain("would drop call_events_p2025_02 (call_events, 2025-02)");
    expect(dry.text()).toMatch(/kept receipts_p2024_12: 1 receipt\(s\) not applied yet/);
    expect(dry.text()).not.toContain("2025_03");
    expect(await count("receipts_p2025_01")).toBe(6 + 3 + 3);

    const done = captureStream();
    await pruneCommand(
      { olderThan: parseRetention("2mo") },
      { env: env(), stdout: done.stream, now },
    );
    expect(done.text()).toContain("dropped receipts_p2025_02 (receipts, 2025-02)");
    expect(done.text()).toMatch(/kept receipts_p2024_12/);

    const existing = async (name: string) =>
      (await rows<{ r: string | null }>("select to_regclass($1)::text as r", [name]))[0]?.r;
    for (const gone of [
      "receipts_p2025_01",
      "receipts_p2025_02",
      "call_events_p2025_01",
      "call_events_p2025_02",
      "call_events_p2024_12",
    ]) {
      expect(await existing(gone), gone).toBeNull();
    }
    for (const kept of [
      "receipts_p2024_12",
      "receipts_p2025_03",
      "call_events_p2025_03",
      "receipts_default",
    ]) {
      expect(await existing(kept), kept).toBe(kept);
    }
    expect(await count("receipts where processed_at is null")).toBe(1);
    // The dropped receipts' keys are forgotten, the others kept.
    expect(
      await count(
        "receipt_keys where receipt_time >= '2025-01-01 00:00+08' and receipt_time < '2025-03-01 00:00+08'",
      ),
    ).toBe(0);
    expect(
      await count(
        "receipt_keys where receipt_time >= '2025-03-01 00:00+08' and receipt_time < '2025-05-01 00:00+08'",
      ),
    ).toBe(2 * 12);

    expect(await rows("select * from calls order by call_id")).toEqual(callsBefore);
    expect(await rows("select * from recordings order by id")).toEqual(recordingsBefore);
    expect(await count("rejected_receipts")).toBe(rejectedBefore);
    expect(await reports("2025-03-01", null)).toEqual(retained);
    // …while the pruned months' key presses are gone, as they should be.
    expect((await reports(null, "2025-02-28")).dtmf).toEqual([]);

    // Pruning again drops nothing more; the refusal stands until the receipt is applied.
    const again = await prunePartitions(db.pool, { cutoff });
    expect(again.dropped).toEqual([]);
    expect(again.refused.map((p) => p.name)).toEqual(["receipts_p2024_12"]);
  });

  it("exits 2 on a bad duration", async () => {
    const r = await runCli(["prune", "--older-than", "90x"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--older-than.*h, d, w, mo or y/s);
  });
});

describe("migration 0005 from the unpartitioned schema", () => {
  it("keeps every row, id and key, and dedups new deliveries against them", async () => {
    const name = `vr_m_${Math.random().toString(16).slice(2, 12)}`;
    const admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const pool = new pg.Pool({ connectionString: databaseUrlFor(name), max: 2 });
    pool.on("error", () => {});
    const folder = join(dir, "migrations-0004");
    try {
      // Migrations 0000–0004 only: the schema as it was before partitioning.
      await mkdir(join(folder, "meta"), { recursive: true });
      const journal = JSON.parse(
        await readFile(join(MIGRATIONS_DIR, "meta/_journal.json"), "utf8"),
      ) as { entries: { idx: number; tag: string }[] };
      journal.entries = journal.entries.filter((e) => e.idx <= 4);
      await writeFile(join(folder, "meta/_journal.json"), JSON.stringify(journal));
      for (const e of journal.entries) {
        await cp(join(MIGRATIONS_DIR, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
      }
      const client = await pool.connect();
      try {
        await migrate(drizzle(client), { migrationsFolder: folder });
      } finally {
        client.release();
      }
      await pool.query(`
        insert into receipts (dedup_key, message_type, source, call_id, event_time, body, processed_at) values
          ('r-old-processed', 'VoiceReport', 'http', '1^1', '2025-06-10 10:00+08', '{"a":1}', now()),
          ('r-old-waiting', 'VoiceCallReport', 'mns', '1^1', null, '{"b":2}', null),
          ('r-old-odd', 'VoiceFutureReport', 'replay', null, '1970-01-01 00:00+00', '{"c":3}', now());
        insert into call_events (call_id, status_code, status_time, dtmf, body) values
          ('1^1', '300000', '2025-06-10 10:00:05+08', '1', '{}'),
          ('1^1', '200101', null, null, '{}');
        insert into calls (call_id, out_id, status_code) values ('1^1', 'o-1', '200000');
        insert into recordings (call_id, record_file, body) values ('1^1', 'f.wav', '{}');
        insert into rejected_receipts (fingerprint, source, raw, reason) values ('fp', 'http', 'x', 'bad');
        insert into dialogue_turns (call_id, turn_time, content_type, content, body)
          values ('1^1', now(), 'normal', '{}', '{}');`);
      const snapshot = async () => ({
        receipts: (
          await pool.query(
            `select id, dedup_key, message_type, source, call_id, out_id, status_code, event_time,
                    body, received_at, processed_at, error from receipts order by id`,
          )
        ).rows,
        events: (await pool.query("select * from call_events order by id")).rows,
        calls: (await pool.query("select * from calls")).rows,
        recordings: (await pool.query("select * from recordings")).rows,
        rejected: (await pool.query("select * from rejected_receipts")).rows,
        turns: (await pool.query("select * from dialogue_turns")).rows,
      });
      const before = await snapshot();

      const result = await runMigrations(pool);
      expect(result.applied).toBe(result.total - 5);
      // Later migrations add columns (e.g. recordings' fetch state): every column that existed
      // keeps its value; the new ones are not part of this comparison.
      const after = await snapshot();
      const asBefore = Object.fromEntries(
        Object.entries(after).map(([table, rows]) => [
          table,
          (rows as Record<string, unknown>[]).map((row, i) => {
            const was = (before as Record<string, Record<string, unknown>[]>)[table]?.[i] ?? {};
            return Object.fromEntries(Object.keys(was).map((k) => [k, row[k]]));
          }),
        ]),
      );
      expect(asBefore).toEqual(before);

      const parts = (
        await pool.query<{ key: string; part: string }>(
          "select dedup_key as key, tableoid::regclass::text as part from receipts order by id",
        )
      ).rows;
      expect(parts).toEqual([
        { key: "r-old-processed", part: "receipts_p2025_06" },
        { key: "r-old-waiting", part: expect.stringMatching(/^receipts_p\d{4}_\d{2}$/) },
        { key: "r-old-odd", part: "receipts_default" },
      ]);
      const eventParts = (
        await pool.query<{ part: string }>(
          "select tableoid::regclass::text as part from call_events order by id",
        )
      ).rows.map((r) => r.part);
      expect(eventParts).toEqual(["call_events_p2025_06", "call_events_default"]);

      // New deliveries of the old receipts: the processed one is a plain duplicate, the waiting
      // one comes back (to be queued again); a new one gets a fresh id after the old ones.
      const row = (dedupKey: string, eventTime: Date | null) => ({
        dedupKey,
        messageType: "VoiceReport",
        source: "http" as const,
        callId: "1^1",
        outId: null,
        statusCode: null,
        eventTime,
        bodyJson: "{}",
      });
      const ids = before.receipts.map((r: { id: string }) => Number(r.id));
      const out = await insertReceipts(pool, [
        row("r-old-processed", new Date("2026-01-01T00:00:00Z")),
        row("r-old-waiting", null),
        row("r-new", null),
      ]);
      expect(out).toEqual(
        expect.arrayContaining([
          { id: ids[1], dedupKey: "r-old-waiting", inserted: false },
          { id: expect.any(Number), dedupKey: "r-new", inserted: true },
        ]),
      );
      expect(out).toHaveLength(2);
      expect(out.find((r) => r.dedupKey === "r-new")!.id).toBeGreaterThan(Math.max(...ids));
      const dup = await pool.query(
        `insert into call_events (call_id, status_code, status_time, dtmf, body)
         values ('1^1', '300000', '2025-06-10 10:00:05+08', '1', '{}'), ('1^1', '200101', null, null, '{}')
         on conflict on constraint call_events_natural_key do nothing`,
      );
      expect(dup.rowCount).toBe(0);
      expect((await pool.query("select count(*)::int as n from report_out_id")).rows[0].n).toBe(4);
    } finally {
      await pool.end();
      const a = new pg.Client({ connectionString: inject("databaseUrl") });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    }
  });
});
