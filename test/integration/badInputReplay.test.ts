/**
 * Issue 19 through `replay`: every hostile line, element, <Message> and file of the issue is one
 * rejected row and reading goes on — valid receipts before and after it, and in other files, are
 * stored and applied; a gzip bomb ends as one rejected row; a symbolic link out of the named
 * tree is not followed. The real replay command against a real PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";

import { afterAll, beforeAll, expect, it } from "vitest";
import { inject } from "vitest";

import { replayCommand } from "../../src/cli/replay.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";

let db: TestDatabase;
let dir: string;
let outside: string;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "vr-badreplay-"));
  outside = await mkdtemp(join(tmpdir(), "vr-outside-"));
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
  await deleteKeysWithPrefix(prefix);
});

let seq = 0;
const ids: string[] = [];
function valid(): string {
  seq++;
  const id = `77${seq}^${seq}`;
  ids.push(id);
  return JSON.stringify({
    call_id: id,
    status_code: "200000",
    start_time: "2026-11-25 10:00:00",
    end_time: "2026-11-25 10:00:10",
    duration: "10",
  });
}
/** A receipt that is part of a refused input: not expected in `calls`. */
function refused(text: string): string {
  ids.pop();
  return text;
}
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const xmlMessage = (body: string, extra = "") =>
  `<Message>${extra}<MessageId>m</MessageId><MessageBody>${body}</MessageBody></Message>`;

function sink() {
  return new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
}

it("every hostile input is one rejected row; everything beside it is stored and applied", async () => {
  const tree = join(dir, "archive");
  await mkdir(tree);
  const deep = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
  const lines = [
    valid(),
    refused(valid()).replace("2026-11-25 10:00:10", "0001-01-01 00:00:00"),
    `{"call_id":"1^deep","end_time":"2026-11-25 10:00:10","x":${deep}}`,
    "x\u0000",
    `{"call_id":"1^\u00ff","end_time":"2026-11-25 10:00:10"}`, // replaced by a Latin-1 byte below
    `{"call_id":12345678901234567890,"end_time":"2026-11-25 10:00:10"}`,
    valid().replace('"duration"', `"record":"${"u".repeat(10)}","d"`),
    valid(),
  ];
  const ndjson = Buffer.from(lines.join("\n"), "utf8");
  // The 5th line: "ÿ" as one Latin-1 byte (0xff), not UTF-8.
  const bad = Buffer.from("\u00ff", "utf8");
  const at = ndjson.indexOf(bad);
  await writeFile(
    join(tree, "a.ndjson"),
    Buffer.concat([ndjson.subarray(0, at), Buffer.from([0xff]), ndjson.subarray(at + bad.length)]),
  );
  await writeFile(
    join(tree, "b.xml"),
    `<Messages>\n${xmlMessage(b64(valid()))}\n${xmlMessage(
      b64(refused(valid())),
      '<!DOCTYPE x [<!ENTITY e "boom">]>',
    )}\n${xmlMessage(b64(`[${valid()},{"call_id":"2^2","end_time":"2026-11-25 10:00:10","x":${deep}}]`))}\n${xmlMessage(b64(valid()))}\n</Messages>\n`,
  );
  // A gzip bomb: 256 MiB of zeros (≈ 256 KiB compressed), then a valid file after it.
  await writeFile(join(tree, "c-bomb.ndjson.gz"), gzipSync(Buffer.alloc(256 * 1024 * 1024)));
  await writeFile(join(tree, "d.json"), `[${valid()},${`{"x":${deep}}`},${valid()}]`);
  await writeFile(join(tree, "e-random.json"), randomBytes(64 * 1024));
  await writeFile(join(outside, "passwd.json"), `[${valid()}]`);
  ids.pop(); // the receipt outside the tree must NOT be read
  await symlink(join(outside, "passwd.json"), join(tree, "f-link.json"));
  await writeFile(join(tree, "g.ndjson"), `${valid()}\n`);

  const started = Date.now();
  const summary = await replayCommand(
    [tree],
    { reconcile: false, progress: false },
    {
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: inject("redisUrl"),
        VMS_QUEUE_PREFIX: prefix,
        LOG_LEVEL: "warn",
      },
      stdout: sink(),
      stderr: sink(),
      handleSignals: false,
    },
  );
  const seconds = (Date.now() - started) / 1000;
  expect(summary.interrupted).toBe(false);

  const { rows: calls } = await db.pool.query<{ call_id: string }>(
    "select call_id from calls where report_received_at is not null order by call_id",
  );
  expect(calls.map((c) => c.call_id).sort()).toEqual(
    ids.filter((id) => !id.startsWith("1^")).sort(),
  );
  const { rows } = await db.pool.query<{ location: string; reason: string }>(
    "select location, reason from rejected_receipts order by location",
  );
  const reasonAt = (file: string, line: number) =>
    rows.filter((r) => r.location === join(tree, file) + `:${line}`).map((r) => r.reason);
  expect(reasonAt("a.ndjson", 2).join()).toMatch(/end_time.*year 1 is outside/);
  expect(reasonAt("a.ndjson", 3).join()).toMatch(/nested too deeply/);
  expect(reasonAt("a.ndjson", 4).join()).toMatch(/not valid JSON/);
  expect(reasonAt("a.ndjson", 5).join()).toMatch(/not valid UTF-8/);
  expect(reasonAt("a.ndjson", 6).join()).toMatch(/cannot be represented exactly/);
  const xml = rows.filter((r) => r.location.startsWith(join(tree, "b.xml")));
  expect(xml.map((r) => r.reason).join("\n")).toMatch(/DOCTYPE or entity declaration/);
  expect(xml.map((r) => r.reason).join("\n")).toMatch(/nested too deeply/);
  const bomb = rows.filter((r) => r.location.startsWith(join(tree, "c-bomb")));
  expect(bomb).toHaveLength(1);
  expect(bomb[0]?.reason).toMatch(/decompresses more than 200 times/);
  expect(rows.some((r) => r.location.startsWith(join(tree, "e-random.json")))).toBe(true);
  expect(rows.some((r) => r.location.includes("f-link") || r.location.includes(outside))).toBe(
    false,
  );
  // Not a timing assertion on the machine, only a bound far above linear work (was minutes).
  expect(seconds).toBeLessThan(120);
});
