/**
 * Property: whatever mix of valid and hostile receipts arrives — by HTTP push, by MNS (the
 * simulator's queues over real HTTP) or in a replay file — every valid receipt is stored exactly
 * once and applied to `calls`, every hostile one is quarantined with a reason, nothing answers
 * 5xx while PostgreSQL and Redis are up, and no secret or full phone number reaches the logs.
 *
 * Hostile values go into every field of a VoiceReport: too long (indexed keys), nested too
 * deep, out-of-range times, NUL, lone surrogates, numbers JSON.parse rounds, values of the
 * wrong JSON type, and (MNS, replay, a push of its own) bytes that are not UTF-8.
 *
 * `npm test` runs a fixed seed and few runs; `npm run test:fuzz` (FUZZ_RUNS, FUZZ_SEED) more.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";

import fc from "fast-check";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

import { replayCommand } from "../../src/cli/replay.js";
import type { Simulator } from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { registerSuiteSecrets } from "../helpers/suiteLogs.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { MNS_QUEUES, mnsEnv, queuesEmpty, startMnsSimulator } from "../helpers/mnsSetup.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

const FUZZING = process.env.npm_lifecycle_event === "test:fuzz";
const RUNS = Number(process.env.FUZZ_RUNS ?? (FUZZING ? 150 : 8));
/** Fixed in `npm test`; a new one each `npm run test:fuzz` (printed on failure) unless given. */
const SEED = Number(process.env.FUZZ_SEED ?? (FUZZING ? Date.now() % 2 ** 31 : 19));
const TOKEN = "prop-push-token-5b1c9e";
const PHONE = "13700001234";

let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
let dir: string;
const prefix = randomPrefix();

beforeAll(async () => {
  registerSuiteSecrets([TOKEN, PHONE, "13800005678"]);
  db = await createTestDatabase();
  sim = await startMnsSimulator();
  dir = await mkdtemp(join(tmpdir(), "vr-prop-"));
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: mnsEnv(sim, { VMS_PUSH_TOKEN: TOKEN, LOG_REDACT_NUMBERS: "on" }),
  });
});
afterAll(async () => {
  await t?.stop();
  await sim?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

const KEY_FIELDS = ["call_id", "out_id", "status_code", "dtmf"] as const;
const TIME_FIELDS = ["start_time", "end_time", "ring_time", "originate_time"] as const;
const OTHER_FIELDS = ["status_msg", "caller", "callee", "duration", "hangup_direction", "x_new"];
const ALL_FIELDS = [...KEY_FIELDS, ...TIME_FIELDS, ...OTHER_FIELDS];

/** A hostile value as JSON text (numbers JSON.parse would round cannot be made otherwise). */
const anyField = fc.constantFrom(...ALL_FIELDS);
const hostileValue: fc.Arbitrary<{ field: string; json: string }> = fc.oneof(
  fc.record({
    field: fc.constantFrom(...KEY_FIELDS),
    json: fc.integer({ min: 257, max: 20_000 }).map((n) => JSON.stringify("9".repeat(n))),
  }),
  fc.record({
    field: anyField,
    json: fc.integer({ min: 33, max: 6000 }).map((d) => `${"[".repeat(d)}1${"]".repeat(d)}`),
  }),
  fc.record({
    field: fc.constantFrom(...TIME_FIELDS),
    json: fc
      .oneof(fc.integer({ min: 1, max: 1999 }), fc.integer({ min: 2101, max: 9999 }))
      .map((y) => `"${String(y).padStart(4, "0")}-06-15 12:00:00"`),
  }),
  fc.record({
    field: anyField,
    json: fc.constantFrom('"a\\u0000b"', '"\\ud800"', '"x\\udfff"', '"\\u0000"'),
  }),
  fc.record({
    field: anyField,
    json: fc.constantFrom("12345678901234567890", "9007199254740993", "1e400", "-1e999"),
  }),
  fc.record({
    field: fc.constantFrom(...KEY_FIELDS, ...TIME_FIELDS, "status_msg", "caller"),
    json: fc.constantFrom("true", "{}", "[]", '{"a":1}'),
  }),
);

type Item =
  | { kind: "valid"; callId: string; text: string; bytes?: undefined }
  | { kind: "hostile"; marker: string; text: string; bytes?: Buffer; trace?: string };

let runNo = 0;
function validText(callId: string): string {
  return JSON.stringify({
    call_id: callId,
    status_code: "200000",
    status_msg: "用户听完语音",
    caller: PHONE,
    callee: "13800005678",
    start_time: "2026-11-25 10:00:00",
    end_time: "2026-11-25 10:00:10",
    duration: "10",
  });
}

/** One delivery's items: valid receipts and hostile ones (hostile: a field replaced). */
const itemsArb = fc.array(
  fc.oneof(
    { weight: 2, arbitrary: fc.constant<null>(null) },
    { weight: 2, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constant<"bytes">("bytes") },
  ),
  { minLength: 1, maxLength: 6 },
);

function build(
  spec: readonly (null | "bytes" | { field: string; json: string })[],
  channel: string,
) {
  runNo++;
  return spec.map((s, i): Item => {
    const id = `${runNo}${i}${channel.length}^${Date.now() % 1e6}${i}`;
    if (s === null) {
      return { kind: "valid", callId: id, text: validText(id) };
    }
    const marker = `mk${runNo}x${channel}x${i}`;
    if (s === "bytes") {
      // Valid JSON except for one Latin-1 byte: not UTF-8.
      const text = `{"call_id":"${id}","end_time":"2026-11-25 10:00:10","marker":"${marker}","n":"é"}`;
      const bytes = Buffer.from(text, "utf8");
      const e = bytes.indexOf(Buffer.from("é", "utf8"));
      return {
        kind: "hostile",
        marker,
        text,
        bytes: Buffer.concat([bytes.subarray(0, e), Buffer.from([0xe9]), bytes.subarray(e + 2)]),
      };
    }
    const base = JSON.parse(validText(id)) as Record<string, unknown>;
    delete base[s.field];
    const body = JSON.stringify({ ...base, marker });
    return { kind: "hostile", marker, text: `${body.slice(0, -1)},"${s.field}":${s.json}}` };
  });
}

const sink = () => new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;

async function deliverPush(items: Item[]): Promise<void> {
  const text = items.filter((i) => !i.bytes);
  const res = await fetch(`${t.url}/push/VoiceReport?token=${TOKEN}`, {
    method: "POST",
    body: `[${text.map((i) => i.text).join(",")}]`,
  });
  expect(res.status).toBe(200);
  // Bytes that are not UTF-8 spoil a whole body: each goes in a push of its own, gzip or not.
  for (const [n, item] of items.filter((i) => i.bytes).entries()) {
    const body = n % 2 === 0 ? (item.bytes as Buffer) : gzipSync(item.bytes as Buffer);
    // Kept verbatim as Base64 (it is not text).
    (item as Extract<Item, { kind: "hostile" }>).trace = `base64:${body.toString("base64")}`;
    const bad = await fetch(`${t.url}/push/VoiceReport?token=${TOKEN}`, { method: "POST", body });
    expect(bad.status).toBe(400);
  }
}

async function deliverMns(items: Item[]): Promise<void> {
  for (const item of items) {
    const bytes = item.bytes ?? Buffer.from(item.text, "utf8");
    sim.control.enqueue(MNS_QUEUES.VoiceReport, bytes.toString("base64"));
  }
  await waitFor(() => queuesEmpty(sim), { what: "MNS messages deleted", timeoutMs: 30_000 });
}

async function deliverReplay(items: Item[]): Promise<void> {
  const file = join(dir, `VoiceReport-${runNo}.ndjson`);
  await writeFile(
    file,
    Buffer.concat(
      items.flatMap((i) => [i.bytes ?? Buffer.from(i.text, "utf8"), Buffer.from("\n")]),
    ),
  );
  const summary = await replayCommand(
    [file],
    { reconcile: false, progress: false, apply: true },
    {
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: inject("redisUrl"),
        VMS_QUEUE_PREFIX: prefix,
        LOG_LEVEL: "silent",
      },
      stdout: sink(),
      stderr: sink(),
      handleSignals: false,
    },
  );
  expect(summary.interrupted).toBe(false);
}

/** The text a rejected row of `item` holds somewhere (MNS keeps an undecodable body as Base64). */
const trace = (item: Extract<Item, { kind: "hostile" }>, channel: string) =>
  item.trace ?? (channel === "mns" && item.bytes ? item.bytes.toString("base64") : item.marker);

async function check(items: Item[], channel: string): Promise<void> {
  const valid = items.filter((i) => i.kind === "valid");
  await waitFor(
    async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from calls where call_id = any($1) and report_received_at is not null",
        [valid.map((v) => v.callId)],
      );
      return rows[0]?.n === valid.length;
    },
    { what: `${channel}: valid receipts applied`, timeoutMs: 30_000 },
  );
  for (const v of valid) {
    const { rows } = await db.pool.query<{ n: number }>(
      "select count(*)::int as n from receipts where call_id = $1",
      [v.callId],
    );
    expect(rows[0]?.n, `${channel}: ${v.callId} stored once`).toBe(1);
  }
  for (const h of items.filter((i) => i.kind === "hostile")) {
    const { rows } = await db.pool.query<{ reason: string }>(
      "select reason from rejected_receipts where strpos(raw, $1) > 0",
      [trace(h, channel)],
    );
    expect(rows.length, `${channel}: ${h.text.slice(0, 120)} quarantined`).toBeGreaterThan(0);
    expect(rows.every((r) => r.reason.length > 0)).toBe(true);
  }
}

it("valid receipts are stored once and applied, hostile ones quarantined, by push, MNS and replay", async () => {
  await fc.assert(
    fc.asyncProperty(itemsArb, itemsArb, itemsArb, async (push, mns, replay) => {
      const p = build(push, "push");
      await deliverPush(p);
      await check(p, "push");
      const m = build(mns, "mns");
      await deliverMns(m);
      await check(m, "mns");
      const r = build(replay, "replay");
      await deliverReplay(r);
      await check(r, "replay");
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  const logs = t.logs();
  expect(logs.length).toBeGreaterThan(0);
  for (const secret of [TOKEN, PHONE, "13800005678", sim.credentials.accessKeySecret]) {
    expect(logs.includes(secret), `a log line carries ${secret.slice(0, 4)}…`).toBe(false);
  }
  const metrics = await (await fetch(`${t.url}/metrics`)).text();
  expect(metrics).not.toMatch(
    /voice_receipts_push_requests_total\{[^}]*status="5\d\d"[^}]*\} [1-9]/,
  );
}, 600_000);
