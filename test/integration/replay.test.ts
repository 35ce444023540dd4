/**
 * `replay` end to end: archives in every accepted format (JSON arrays, NDJSON with arrays per
 * line, MNS dumps as JSON and XML with Base64 bodies, .gz of each, a corrupt line, a truncated
 * .gz) written to a temp dir, replayed through the real CLI into a real PostgreSQL.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, gunzipSync, gzipSync } from "node:zlib";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { replayCommand } from "../../src/cli/replay.js";
import { normalizeReceipt } from "../../src/domain/receipt.js";
import { UNKNOWN_TYPE_REASON } from "../../src/replay/replay.js";
import { createCallGenerator } from "../../src/simulator/calls.js";
import { receiptsForCall, type Receipt as SimReceipt } from "../../src/simulator/receipts.js";
import { CALLS, flipNumericTypes, receiptsByType, type Receipt } from "../fixtures/corpus.js";
import { startTestApp } from "../helpers/app.js";
import { processEnv, runCli } from "../helpers/cli.js";
import { expectCorpusCalls } from "../helpers/corpusCalls.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { captureStream } from "../helpers/streams.js";

let db: TestDatabase;
let dir: string;
const prefix = randomPrefix();
const env = () => processEnv(db.url, prefix, { LOG_LEVEL: "warn" });

const base64 = (v: unknown) => Buffer.from(JSON.stringify(v), "utf8").toString("base64");
const mnsMessage = (id: string, body: unknown) => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  MessageBodyMD5: "0",
  MessageBody: base64(body),
  EnqueueTime: "1795600000000",
  DequeueCount: "1",
  Priority: "8",
});
const xmlMessage = (id: string, body: string) =>
  `  <Message>\n    <MessageId>${id}</MessageId>\n    <MessageBody>${body}</MessageBody>\n    <DequeueCount>1</DequeueCount>\n  </Message>`;

/** 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(needle));
  if (i === -1) {
    throw new Error(`${needle} not in text`);
  }
  return i + 1;
}

function keysOf(receipts: readonly { messageType: string; body: unknown }[]): Set<string> {
  const keys = new Set<string>();
  for (const r of receipts) {
    const n = normalizeReceipt(r.messageType, r.body);
    if (!n.ok) {
      throw new Error(`fixture receipt is invalid: ${n.reason}`);
    }
    keys.add(n.receipt.dedupKey);
  }
  return keys;
}

interface Expected {
  keys: Set<string>;
  duplicates: number;
  /** location → reason pattern */
  rejected: Map<string, RegExp>;
}

const expected: Expected = { keys: new Set(), duplicates: 0, rejected: new Map() };

async function writeArchives(root: string): Promise<void> {
  const byType = receiptsByType();
  const reports = byType.VoiceReport!;
  const events = byType.VoiceCallReport!;
  const recordings = byType.VoiceRecordReport!;
  const corpus = [
    ...reports.map((body) => ({ messageType: "VoiceReport", body })),
    ...events.map((body) => ({ messageType: "VoiceCallReport", body })),
    ...recordings.map((body) => ({ messageType: "VoiceRecordReport", body })),
  ];
  for (const k of keysOf(corpus)) {
    expected.keys.add(k);
  }
  for (const d of ["json", "ndjson", "mns", "xml", "gz", "trunc"]) {
    await mkdir(join(root, d));
  }

  // 1. JSON array of VoiceReports (type from the file name), one invalid element.
  const invalid = { status_code: "200000", out_id: "no-call-id" };
  const jsonText = `[\n${[reports[0], reports[1], invalid, reports[2]]
    .map((r) => `  ${JSON.stringify(r)}`)
    .join(",\n")}\n]\n`;
  const jsonPath = join(root, "json", "VoiceReport-corpus.json");
  await writeFile(jsonPath, jsonText);
  expected.rejected.set(`${jsonPath}:${lineOf(jsonText, "no-call-id")}`, /call_id/);

  // 2. NDJSON, arrays per line, a blank line, a corrupt line, a receipt of no known type.
  const call1 = events.filter((e) => e.call_id === CALLS[0]!.callId);
  const call2 = events.filter((e) => e.call_id === CALLS[1]!.callId);
  const ndLines = [
    JSON.stringify(call1.slice(0, 3)),
    JSON.stringify(call1.slice(3)),
    "",
    '{"call_id": "100000000002^200000000002", "status_code"',
    JSON.stringify(call2),
    JSON.stringify({ foo: "bar", note: "未知" }),
  ];
  const ndPath = join(root, "ndjson", "events.ndjson");
  await writeFile(ndPath, `${ndLines.join("\n")}\n`);
  expected.rejected.set(`${ndPath}:4`, /not valid JSON/);
  expected.rejected.set(`${ndPath}:6`, new RegExp(UNKNOWN_TYPE_REASON.slice(0, 30)));

  // 3. MNS dump as JSON (one message per line), queue name gives the type; one bad body.
  const rest = events.filter((e) => !call1.includes(e) && !call2.includes(e));
  const messages = [
    ...rest.map((e, i) => mnsMessage(`E${i}`, e)),
    { MessageId: "BAD1", MessageBody: "!!! not base64 !!!" },
  ];
  const mnsText = `[\n${messages.map((m) => `  ${JSON.stringify(m)}`).join(",\n")}\n]\n`;
  const mnsPath = join(root, "mns", "Alicom-Queue-1234567890123456-VoiceCallReport.json");
  await writeFile(mnsPath, mnsText);
  expected.rejected.set(`${mnsPath}:${lineOf(mnsText, "BAD1")}`, /BAD1.*neither JSON nor Base64/);

  // 4. MNS XML dump: the recording (type from its fields), a duplicate of a VoiceReport with
  //    numbers and numeric strings swapped, and a malformed message.
  const xmlText = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Messages xmlns="http://mns.aliyuncs.com/doc/v1/">',
    xmlMessage("R1", base64(recordings[0])),
    xmlMessage("D1", base64(flipNumericTypes(reports[0]!))),
    "  <Message><MessageId>X1</MessageId><MessageBody>e30=</MessageBody><Oops></Message>",
    "</Messages>",
    "",
  ].join("\n");
  const xmlPath = join(root, "xml", "batch.xml");
  await writeFile(xmlPath, xmlText);
  expected.duplicates += 1;
  expected.rejected.set(`${xmlPath}:${lineOf(xmlText, "X1")}`, /malformed XML/);

  // 5. The same formats gzipped, with receipts of generated calls.
  const gen = createCallGenerator({ seed: 5, startTime: Date.UTC(2026, 10, 21, 1, 0, 0) });
  const generated: SimReceipt[] = gen.generate(12).flatMap(receiptsForCall);
  for (const k of keysOf(generated)) {
    expected.keys.add(k);
  }
  const of = (t: string) => generated.filter((r) => r.messageType === t).map((r) => r.body);
  const genEvents = of("VoiceCallReport");
  const half = Math.ceil(genEvents.length / 2);
  await writeFile(
    join(root, "gz", "VoiceReport-generated.json.gz"),
    gzipSync(JSON.stringify(of("VoiceReport"))),
  );
  await writeFile(
    join(root, "gz", "events.ndjson.gz"),
    gzipSync(
      genEvents
        .slice(0, half)
        .map((e) => JSON.stringify(e))
        .join("\n"),
    ),
  );
  await writeFile(
    join(root, "gz", "Alicom-Queue-1234567890123456-VoiceCallReport.json.gz"),
    gzipSync(JSON.stringify(genEvents.slice(half).map((e, i) => mnsMessage(`G${i}`, e)))),
  );
  await writeFile(
    join(root, "gz", "recordings.xml.gz"),
    gzipSync(
      `<Messages>\n${of("VoiceRecordReport")
        .map((r, i) => xmlMessage(`GR${i}`, base64(r)))
        .join("\n")}\n</Messages>\n`,
    ),
  );

  // 6. A truncated .gz: what was decompressed before the cut is kept, the cut is reported.
  const genB = createCallGenerator({ seed: 6, startTime: Date.UTC(2026, 10, 22, 1, 0, 0) });
  const cutReports = genB
    .generate(40)
    .flatMap(receiptsForCall)
    .filter((r) => r.messageType === "VoiceReport");
  const full = gzipSync(cutReports.map((r) => JSON.stringify(r.body)).join("\n") + "\n");
  const cut = full.subarray(0, Math.floor(full.length * 0.6));
  const truncPath = join(root, "trunc", "VoiceReport-cut.ndjson.gz");
  await writeFile(truncPath, cut);
  const readable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).toString("utf8");
  const complete = readable.split("\n").slice(0, -1);
  expect(complete.length).toBeGreaterThan(3);
  expect(complete.length).toBeLessThan(cutReports.length);
  for (const k of keysOf(
    complete.map((l) => ({ messageType: "VoiceReport", body: JSON.parse(l) })),
  )) {
    expected.keys.add(k);
  }
  const lastLine = complete.length + (readable.endsWith("\n") ? 0 : 1);
  expected.rejected.set(`${truncPath}:${lastLine}`, /gzip data is truncated or corrupt/);

  // Not an archive: ignored by the directory walk.
  await writeFile(join(root, "README.txt"), "not a receipt archive\n");
}

async function count(table: string, where = "true"): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `select count(*)::int as n from ${table} where ${where}`,
  );
  return rows[0]?.n ?? 0;
}

async function snapshot() {
  const q = async (sql: string) => (await db.pool.query(sql)).rows;
  return {
    receipts: await q(
      "select id, dedup_key, message_type, source, body, processed_at from receipts order by id",
    ),
    calls: await q("select * from calls order by call_id"),
    events: await q("select * from call_events order by id"),
    recordings: await q("select * from recordings order by id"),
    rejected: await q("select * from rejected_receipts order by id"),
  };
}

const captured = captureStream;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "vr-replay-"));
  await mkdir(join(dir, "archive"));
  await writeArchives(join(dir, "archive"));
});

afterAll(async () => {
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
  if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

// The CLI runs get 60 s each; the tests must outlive them on a loaded machine (default 30 s).
describe("voice-receipts replay", { timeout: 90_000 }, () => {
  it("replays every format into receipts, calls, events and recordings, rejecting bad input with file:line", async () => {
    const r = await runCli(["replay", join(dir, "archive")], env(), 60_000);
    expect(r.stderr).not.toMatch(/voice-receipts:/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ignoring 1 file\(s\) that are not archives/);

    const rejected = expected.rejected.size;
    const summary =
      /^replay: (\d+) receipts read from (\d+) files: (\d+) new, (\d+) duplicates, (\d+) rejected \((.*?)\); (\d+) applied; [\d.]+ s, \d+ receipts\/s$/m.exec(
        r.stdout,
      );
    expect(summary, r.stdout).not.toBeNull();
    const [, read, files, fresh, dups, rej, first, applied] = summary!;
    expect(Number(files)).toBe(9);
    expect(Number(fresh)).toBe(expected.keys.size);
    expect(Number(dups)).toBe(expected.duplicates);
    expect(Number(rej)).toBe(rejected);
    expect(Number(read)).toBe(expected.keys.size + expected.duplicates + rejected);
    expect(Number(applied)).toBe(expected.keys.size);
    expect(first!.split(", ")[0]).toMatch(/:\d+$/);

    // Receipts: exactly the distinct ones, from source replay, all applied.
    const { rows: keys } = await db.pool.query<{ dedup_key: string }>(
      "select dedup_key from receipts",
    );
    expect(new Set(keys.map((k) => k.dedup_key))).toEqual(expected.keys);
    expect(await count("receipts", "source <> 'replay'")).toBe(0);
    expect(await count("receipts", "processed_at is null")).toBe(0);

    // The corpus calls end exactly as when pushed live.
    for (const row of await expectCorpusCalls(db.pool)) {
      expect(row.reconcile_status).toBe("pending");
    }
    const byType = receiptsByType();
    expect(await count("call_events", `call_id like '10000000000%'`)).toBe(
      byType.VoiceCallReport!.length,
    );
    expect(await count("recordings")).toBeGreaterThanOrEqual(1);

    // Every bad line, element and message is in rejected_receipts with its file:line.
    const { rows: bad } = await db.pool.query<{
      location: string;
      reason: string;
      source: string;
      message_type: string | null;
    }>("select location, reason, source, message_type from rejected_receipts");
    expect(bad).toHaveLength(rejected);
    for (const [location, reason] of expected.rejected) {
      const row = bad.find((b) => b.location === location);
      expect(
        row,
        `rejected row at ${location}; have ${bad.map((b) => b.location).join(" ")}`,
      ).toBeDefined();
      expect(row!.reason).toMatch(reason);
      expect(row!.source).toBe("replay");
    }
    expect(bad.find((b) => b.location.includes("VoiceReport-corpus.json"))?.message_type).toBe(
      "VoiceReport",
    );
  });

  it("changes nothing when the same archives are replayed again", async () => {
    const before = await snapshot();
    const r = await runCli(["replay", join(dir, "archive")], env(), 60_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `: 0 new, ${expected.keys.size + expected.duplicates} duplicates, ${expected.rejected.size} rejected .*; 0 applied;`,
      ),
    );
    expect(await snapshot()).toEqual(before);
  });

  it("with --no-reconcile marks the replayed calls skipped, and leaves the others alone", async () => {
    const sub = join(dir, "noreconcile");
    await mkdir(sub);
    const calls = createCallGenerator({ seed: 9, startTime: Date.UTC(2026, 10, 23, 1, 0, 0) })
      .generate(5)
      .flatMap(receiptsForCall);
    const ids = [...new Set(calls.map((c) => String(c.body.call_id ?? c.body.biz_id)))];
    await writeFile(join(sub, "mixed.ndjson"), calls.map((c) => JSON.stringify(c.body)).join("\n"));
    const out = captured();
    const summary = await replayCommand(
      [sub],
      { reconcile: false, progress: false },
      { env: env(), stdout: out.stream, stderr: captured().stream, handleSignals: false },
    );
    expect(summary.accepted).toBe(keysOf(calls).size);
    expect(summary.skippedCalls).toBe(ids.length);
    expect(out.text()).toMatch(/5 calls marked reconcile_status=skipped/);
    const { rows } = await db.pool.query<{ reconcile_status: string; status_code: string | null }>(
      "select reconcile_status, status_code from calls where call_id = any($1)",
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    expect(new Set(rows.map((r) => r.reconcile_status))).toEqual(new Set(["skipped"]));
    // The workers' upsert still filled the call (the skeleton row did not block it).
    expect(rows.filter((r) => r.status_code !== null).length).toBeGreaterThan(0);
    expect(await count("calls", "reconcile_status = 'skipped'")).toBe(ids.length);
  });

  it("with --wait leaves the receipts to a running worker and returns once they are applied", async () => {
    const sub = join(dir, "wait");
    await mkdir(sub);
    const receipts = createCallGenerator({ seed: 10, startTime: Date.UTC(2026, 10, 24, 1, 0, 0) })
      .generate(6)
      .flatMap(receiptsForCall);
    await writeFile(
      join(sub, "all.json"),
      JSON.stringify(receipts.map((r) => ({ MessageType: r.messageType, ...r.body }))),
    );
    const worker = await startTestApp({ databaseUrl: db.url, prefix, role: "worker" });
    try {
      const summary = await replayCommand(
        [sub],
        { reconcile: true, wait: true, progress: false },
        { env: env(), stdout: captured().stream, stderr: captured().stream, handleSignals: false },
      );
      expect(summary.mode).toBe("wait");
      expect(summary.accepted).toBe(receipts.length);
      expect(summary.applied).toBe(receipts.length);
      expect(summary.queued).toBe(0);
      expect(await count("receipts", "processed_at is null")).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it("exits 2 on bad usage: a missing path, --apply with --wait, a bad --type", async () => {
    const missing = await runCli(["replay", join(dir, "nope.json")], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory: .*nope\.json/);
    const io = {
      env: env(),
      stdout: captured().stream,
      stderr: captured().stream,
      handleSignals: false,
    };
    await expect(
      replayCommand([dir], { reconcile: true, apply: true, wait: true }, io),
    ).rejects.toThrow(/--apply and --wait exclude each other/);
    await expect(
      replayCommand([dir], { reconcile: true, type: "Voice Report" }, io),
    ).rejects.toThrow(/--type must be one of VoiceReport/);
  });

  it("takes the type from --type over everything else", async () => {
    const sub = join(dir, "typed");
    await mkdir(sub);
    // Fields of a VoiceCallReport, but --type says VoiceReport: stored as one (and validated as one).
    const body: Receipt = {
      call_id: "300000000001^400000000001",
      status_code: "200000",
      status_time: "2026-11-25 10:00:00",
      duration: "5",
    };
    await writeFile(join(sub, "VoiceCallReport-x.json"), JSON.stringify([body]));
    const summary = await replayCommand(
      [join(sub, "VoiceCallReport-x.json")],
      { reconcile: true, type: "VoiceReport", progress: false },
      { env: env(), stdout: captured().stream, stderr: captured().stream, handleSignals: false },
    );
    expect(summary.accepted).toBe(1);
    const { rows } = await db.pool.query(
      "select message_type from receipts where call_id = '300000000001^400000000001'",
    );
    expect(rows).toEqual([{ message_type: "VoiceReport" }]);
  });
});
