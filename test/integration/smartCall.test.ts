/**
 * Smart voice interaction callbacks end to end: the real daemon (fastify, PostgreSQL, Redis), a
 * real business webhook (a local HTTP server whose behaviour each test sets), a real rules file,
 * and conversations played by the simulator the way the platform sends them.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { dialogueCommand } from "../../src/cli/dialogue.js";
import { generateDialogue, playSmartCall, type DialogueTurn } from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcpProxy.js";
import { waitFor } from "../helpers/waitFor.js";

const TOKEN = "smart-call-test-token";
/** The contract deadline under test; answers must come before it plus a generous margin. */
const DEADLINE_MS = 400;
const MARGIN_MS = 1000;

const RULES = [
  { name: "agent", keyword: ["人工", "客服"], action: "transfer", number: "13700000000" },
  { name: "bye", keyword: "再见", action: "hangup" },
  { dtmf: "0", action: "transfer", number: "13700000000" },
  { dtmf: ["1", "2", "3", "9"], action: "play", action_code: "menu.wav" },
  { content_type: "mute", action: "play", action_code: "are-you-there.wav" },
];

// ---------------------------------------------------------------------------------------------
// The business webhook: a real HTTP server.

type WebhookMode = "answer" | "hang" | "fail" | "invalid" | "none";

interface Webhook {
  url: string;
  mode: WebhookMode;
  requests: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startWebhook(): Promise<Webhook> {
  const hanging = new Set<ServerResponse>();
  const hook: Webhook = { url: "", mode: "none", requests: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      hook.requests.push(JSON.parse(body) as Record<string, unknown>);
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      switch (hook.mode) {
        case "answer":
          return json(200, { action: "play", action_code: "from-webhook.wav" });
        case "hang":
          hanging.add(res); // never answered
          return undefined;
        case "fail":
          return json(500, { error: "boom" });
        case "invalid":
          return json(200, { action: "dance" });
        case "none":
          return res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/next-action`;
  hook.close = async () => {
    for (const res of hanging) {
      res.destroy();
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return hook;
}

// ---------------------------------------------------------------------------------------------

let db: TestDatabase;
let t: TestApp;
let webhook: Webhook;
let dir: string;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  webhook = await startWebhook();
  dir = await mkdtemp(join(tmpdir(), "vr-smart-call-"));
  await writeFile(join(dir, "rules.json"), JSON.stringify(RULES));
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    role: "ingest",
    env: {
      VMS_PUSH_TOKEN: TOKEN,
      VMS_SMART_CALL_FORWARD_URL: webhook.url,
      VMS_SMART_CALL_RULES: join(dir, "rules.json"),
      VMS_SMART_CALL_DEFAULT_ACTION: "donothing",
      VMS_SMART_CALL_DEADLINE_MS: String(DEADLINE_MS),
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await webhook?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
  if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

let serial = 0;
function newCallId(): string {
  serial++;
  return `5${String(serial).padStart(11, "0")}^6${String(Date.now() % 1e11).padStart(11, "0")}`;
}

let clock = Date.UTC(2026, 10, 21, 2, 0, 0);
function speech(callId: string, words: string): Record<string, string> {
  clock += 1000;
  return {
    call_id: callId,
    timestamp: String(clock),
    content_type: "normal",
    content: JSON.stringify({
      role: "B",
      identity: "id2",
      words,
      begin_offset: "1000",
      end_offset: "2000",
    }),
  };
}
function event(callId: string, contentType: string, content: object = {}): Record<string, string> {
  clock += 1000;
  return {
    call_id: callId,
    timestamp: String(clock),
    content_type: contentType,
    content: JSON.stringify(content),
  };
}

interface Answer {
  status: number;
  body: { result: string; msg: string; data: Record<string, unknown> };
  ms: number;
}

async function callback(
  params: Record<string, string> | string,
  opts: { token?: string | null; encoding?: "form" | "json" | "query"; base?: string } = {},
): Promise<Answer> {
  const token = opts.token === undefined ? TOKEN : opts.token;
  const url = new URL(`${opts.base ?? t.url}/smart-call/callback`);
  if (token !== null) {
    url.searchParams.set("token", token);
  }
  const init: RequestInit = { method: "POST" };
  if (typeof params === "string") {
    init.headers = { "content-type": "application/x-www-form-urlencoded" };
    init.body = params;
  } else if (opts.encoding === "json") {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(params);
  } else if (opts.encoding === "query") {
    for (const [k, v] of Object.entries(params)) {
      url.searchParams.set(k, v);
    }
  } else {
    init.headers = { "content-type": "application/x-www-form-urlencoded" };
    init.body = new URLSearchParams(params).toString();
  }
  const started = performance.now();
  const res = await fetch(url, init);
  const body = (await res.json()) as Answer["body"];
  return { status: res.status, body, ms: performance.now() - started };
}

interface TurnRow {
  role: string | null;
  content_type: string;
  words: string | null;
  dtmf: string | null;
  deliveries: number;
  answered_action: string | null;
  answered_action_code: string | null;
  answer: Record<string, unknown> | null;
  answered_by: string | null;
  answered_reason: string | null;
  webhook_outcome: string | null;
  latency_ms: number | null;
  body: Record<string, unknown>;
}

async function turnsOf(callId: string): Promise<TurnRow[]> {
  const { rows } = await db.pool.query<TurnRow>(
    `select role, content_type, words, dtmf, deliveries, answered_action, answered_action_code,
            answer, answered_by, answered_reason, webhook_outcome, latency_ms, body
       from dialogue_turns where call_id = $1 order by turn_time, id`,
    [callId],
  );
  return rows;
}

/**
 * The turns of a call once `count` of them carry their answer: the answer is recorded after the
 * reply is sent (the deadline is the platform's), so reading right after a reply can race it.
 */
async function answeredTurnsOf(callId: string, count: number): Promise<TurnRow[]> {
  return waitFor(
    async () => {
      const rows = await turnsOf(callId);
      return rows.length === count && rows.every((r) => r.answered_by !== null) ? rows : undefined;
    },
    { what: `${count} answered turns of ${callId}` },
  );
}

async function metricsText(base = t.url): Promise<string> {
  return (await fetch(`${base}/metrics`)).text();
}

function metricValue(text: string, labels: string): number {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`voice_receipts_smart_call_callbacks_total{${labels}}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("POST /smart-call/callback", () => {
  it("answers from the webhook in the documented shape and sends it the parsed turn", async () => {
    webhook.mode = "answer";
    const callId = newCallId();
    const params = speech(callId, "喂，你好");
    const r = await callback(params);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      result: "success",
      msg: "成功",
      data: { call_id: callId, action: "play", action_code: "from-webhook.wav" },
    });
    expect(webhook.requests.at(-1)).toMatchObject({
      call_id: callId,
      timestamp: Number(params.timestamp),
      content_type: "normal",
      role: "B",
      words: "喂，你好",
      begin_offset: 1000,
      content: { role: "B", words: "喂，你好" },
    });
    const [row] = await answeredTurnsOf(callId, 1);
    expect(row).toMatchObject({
      role: "B",
      content_type: "normal",
      words: "喂，你好",
      deliveries: 1,
      answered_action: "play",
      answered_action_code: "from-webhook.wav",
      answered_by: "webhook",
      webhook_outcome: "ok",
      body: params, // exactly as received, content still a JSON string, no token
    });
    const { rows } = await db.pool.query("select direction from calls where call_id = $1", [
      callId,
    ]);
    expect(rows).toEqual([{ direction: "outbound" }]);
  });

  it("stores each turn once when the platform retries, and answers the retry the same", async () => {
    webhook.mode = "answer";
    const callId = newCallId();
    const turns = generateDialogue({ seed: 11 });
    const asked = webhook.requests.length;
    const play = await playSmartCall({
      url: `${t.url}/smart-call/callback`,
      token: TOKEN,
      call: { callId },
      turns,
      deliveries: 2,
    });
    expect(play.turnsSent).toBe(turns.length);
    for (let i = 0; i < play.exchanges.length; i += 2) {
      const [first, retry] = [play.exchanges[i], play.exchanges[i + 1]];
      expect(first?.status).toBe(200);
      expect(retry?.data).toEqual(first?.data);
    }
    const rows = await answeredTurnsOf(callId, turns.length);
    expect(rows.every((r) => r.deliveries === 2 && r.answered_by === "webhook")).toBe(true);
    // A retry of an answered turn is answered from the store: the webhook is asked once a turn.
    expect(webhook.requests.length - asked).toBe(turns.length);

    // Retries racing each other collapse too.
    const params = speech(callId, "还在吗");
    const answers = await Promise.all([callback(params), callback(params), callback(params)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const again = await turnsOf(callId);
    expect(again).toHaveLength(turns.length + 1);
    expect(again.find((r) => r.words === "还在吗")?.deliveries).toBe(3);
  });

  it("keeps the deadline when the webhook hangs, answering from the rules or the default", async () => {
    webhook.mode = "hang";
    const callId = newCallId();
    const byRule = await callback(speech(callId, "帮我转人工"));
    expect(byRule.status).toBe(200);
    expect(byRule.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(byRule.body.data).toEqual({
      call_id: callId,
      action: "transfer",
      action_code: "",
      number: "13700000000",
    });
    const byDefault = await callback(speech(callId, "嗯"));
    expect(byDefault.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(byDefault.body.data).toMatchObject({ action: "donothing" });

    const rows = await answeredTurnsOf(callId, 2);
    expect(rows.map((r) => [r.answered_by, r.webhook_outcome])).toEqual([
      ["rules", "timeout"],
      ["default", "timeout"],
    ]);
    expect(rows[0]?.answered_reason).toMatch(
      /^rule 1 "agent" \(keyword\); webhook no answer within/,
    );
    expect(rows[1]?.answered_reason).toMatch(/^no rule matched; webhook no answer within/);
    expect(rows.every((r) => (r.latency_ms ?? Infinity) < DEADLINE_MS + MARGIN_MS)).toBe(true);
  });

  it("falls back to the rules when the webhook fails or answers nonsense", async () => {
    const callId = newCallId();
    webhook.mode = "fail";
    const failed = await callback(speech(callId, "好的，再见"));
    expect(failed.body.data).toMatchObject({ action: "hangup" });
    webhook.mode = "invalid";
    const invalid = await callback(speech(callId, "找客服"));
    expect(invalid.body.data).toMatchObject({ action: "transfer" });
    const rows = await turnsOf(callId);
    expect(rows.map((r) => [r.answered_by, r.webhook_outcome])).toEqual([
      ["rules", "http_error"],
      ["rules", "invalid"],
    ]);
    expect(rows[0]?.answered_reason).toContain("HTTP 500");
    expect(rows[1]?.answered_reason).toContain("dance");
  });

  it("applies dtmf and content_type rules, and the default action when nothing matches", async () => {
    webhook.mode = "none";
    const callId = newCallId();
    const zero = await callback(event(callId, "dtmf", { dtmf_digits: "0" }));
    expect(zero.body.data).toEqual({
      call_id: callId,
      action: "transfer",
      action_code: "",
      number: "13700000000",
    });
    const one = await callback(event(callId, "dtmf", { dtmf_digits: "1", dynamic_id: "step-2" }));
    // dynamic_id goes back to the platform so the next callback carries it again.
    expect(one.body.data).toEqual({
      call_id: callId,
      action: "play",
      action_code: "menu.wav",
      dynamic_id: "step-2",
    });
    const mute = await callback(event(callId, "mute"));
    expect(mute.body.data).toMatchObject({ action: "play", action_code: "are-you-there.wav" });
    const other = await callback(event(callId, "timebreak", { current_media_code: "a.wav" }));
    expect(other.body.data).toEqual({ call_id: callId, action: "donothing", action_code: "" });

    const rows = await turnsOf(callId);
    expect(
      rows.map((r) => [r.content_type, r.role, r.dtmf, r.answered_by, r.answered_action]),
    ).toEqual([
      ["dtmf", null, "0", "rules", "transfer"],
      ["dtmf", null, "1", "rules", "play"],
      ["mute", null, null, "rules", "play"],
      ["timebreak", null, null, "default", "donothing"],
    ]);
    expect(rows[0]?.answered_reason).toBe("rule 3 (dtmf); webhook no answer (empty body)");
  });

  it("reads the parameters from a JSON body and from the query string as well", async () => {
    webhook.mode = "none";
    const callId = newCallId();
    const json = await callback(speech(callId, "转人工"), { encoding: "json" });
    const query = await callback(speech(callId, "再见"), { encoding: "query" });
    expect([json.status, json.body.data.action]).toEqual([200, "transfer"]);
    expect([query.status, query.body.data.action]).toEqual([200, "hangup"]);
    expect((await turnsOf(callId)).map((r) => r.words)).toEqual(["转人工", "再见"]);
  });

  it("fills a transcripts view matching the simulated conversation, shown by `dialogue`", async () => {
    webhook.mode = "none";
    const callId = newCallId();
    const turns: DialogueTurn[] = generateDialogue({ seed: 5, middleTurns: 6 });
    const play = await playSmartCall({
      url: `${t.url}/smart-call/callback`,
      token: TOKEN,
      call: { callId, startTime: Date.UTC(2026, 10, 21, 3, 0, 0) },
      turns,
    });
    expect(play.hungUp).toBe(true); // the goodbye matches the "bye" rule
    expect(play.turnsSent).toBe(turns.length);

    const { rows } = await db.pool.query(
      "select turns, conversation, text from transcripts where call_id = $1",
      [callId],
    );
    expect(rows).toHaveLength(1);
    const view = rows[0] as {
      turns: number;
      conversation: Array<Record<string, unknown>>;
      text: string;
    };
    expect(view.turns).toBe(turns.length);
    const expected = turns
      .map(
        (turn) =>
          `${turn.role ?? turn.contentType}: ${
            turn.words ?? (turn.dtmf !== null ? `[${turn.dtmf}]` : `(${turn.contentType})`)
          }`,
      )
      .join("\n");
    expect(view.text).toBe(expected);
    expect(view.conversation.map((c) => c.action)).toEqual(play.actions);
    expect(view.conversation.map((c) => c.content_type)).toEqual(turns.map((x) => x.contentType));

    let out = "";
    await dialogueCommand(callId, {
      format: "json",
      env: { DATABASE_URL: db.url },
      out: (s) => (out += s),
    });
    const json = JSON.parse(out) as { call_id: string; turns: number; text: string };
    expect(json).toMatchObject({ call_id: callId, turns: turns.length, text: expected });

    out = "";
    await dialogueCommand(callId, {
      format: "table",
      env: { DATABASE_URL: db.url },
      out: (s) => (out += s),
    });
    expect(out).toContain(`call ${callId}`);
    expect(out).toContain("hangup");
    expect(out).toContain(turns[0]?.words ?? "?");

    await expect(
      dialogueCommand("0^0", { format: "table", env: { DATABASE_URL: db.url }, out: () => {} }),
    ).rejects.toThrow(/no smart-call dialogue stored for call_id 0\^0/);
  });

  it("refuses a missing or wrong token with 401, and accepts the x-push-token header", async () => {
    const callId = newCallId();
    const none = await callback(speech(callId, "a"), { token: null });
    const wrong = await callback(speech(callId, "b"), { token: "nope" });
    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(none.body).toEqual({ result: "fail", msg: "missing or wrong push token", data: {} });
    const res = await fetch(`${t.url}/smart-call/callback`, {
      method: "POST",
      headers: { "x-push-token": TOKEN, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(speech(callId, "c")).toString(),
    });
    expect(res.status).toBe(200);
    expect((await turnsOf(callId)).map((r) => r.words)).toEqual(["c"]);
    expect(metricValue(await metricsText(), 'answered_by="none",outcome="unauthorized"')).toBe(2);
  });

  it("answers 400 to a malformed callback and keeps it in rejected_receipts without the token", async () => {
    const callId = newCallId();
    const raw = `call_id=${encodeURIComponent(callId)}&timestamp=1764000000000&content_type=normal&content=%7Brole%3A+B%7D`;
    const r = await callback(raw);
    expect(r.status).toBe(400);
    expect(r.body.result).toBe("fail");
    expect(r.body.msg).toMatch(/content is not valid JSON/);
    const missing = await callback({
      timestamp: "1764000000000",
      content_type: "normal",
      content: "{}",
    });
    expect([missing.status, missing.body.msg]).toEqual([400, "call_id is missing"]);

    const { rows } = await db.pool.query(
      `select source, message_type, raw, reason, location from rejected_receipts
        where message_type = 'SmartCallCallback' order by id`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      source: "http",
      message_type: "SmartCallCallback",
      raw,
      location: "/smart-call/callback",
    });
    expect(rows[0].reason).toMatch(/content is not valid JSON/);
    expect(rows.some((row) => String(row.raw).includes(TOKEN))).toBe(false);
    expect(t.logs()).not.toContain(TOKEN);
    expect(await turnsOf(callId)).toEqual([]);
  });
});

describe("the daemon with a bad rules file", () => {
  it("exits 2 naming VMS_SMART_CALL_RULES and the problem", async () => {
    const bad = join(dir, "bad-rules.json");
    await writeFile(bad, JSON.stringify([{ keyword: "人工", action: "transfer-now" }]));
    const r = await runCli(["run", "--role", "ingest"], {
      DATABASE_URL: db.url,
      VMS_PUSH_PORT: "0",
      VMS_SMART_CALL_RULES: bad,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`VMS_SMART_CALL_RULES: ${bad}: rule 1: action: must be one of`);
  });
});

describe("POST /smart-call/callback while PostgreSQL is down", () => {
  let proxy: TcpProxy;
  let down: TestApp;
  const downPrefix = randomPrefix();

  beforeAll(async () => {
    const u = new URL(db.url);
    proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
    down = await startTestApp({
      databaseUrl: proxy.url(db.url),
      prefix: downPrefix,
      role: "ingest",
      env: {
        VMS_SMART_CALL_RULES: join(dir, "rules.json"),
        VMS_SMART_CALL_DEADLINE_MS: String(DEADLINE_MS),
      },
    });
  });
  afterAll(async () => {
    await down?.stop();
    await proxy?.close();
    await deleteKeysWithPrefix(downPrefix);
  });

  it("still answers 200 with the computed action in time, and counts the storage failure", async () => {
    const callId = newCallId();
    await proxy.cut();
    const r = await callback(speech(callId, "转人工"), { token: null, base: down.url });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(r.body.data).toMatchObject({ call_id: callId, action: "transfer" });
    await expect
      .poll(async () =>
        metricValue(await metricsText(down.url), 'answered_by="rules",outcome="storage_failed"'),
      )
      .toBe(1);
    expect(down.logs()).toContain("smart-call turn answered but not stored");
    expect(await turnsOf(callId)).toEqual([]);

    await proxy.restore();
    const back = await callback(speech(callId, "再见"), { token: null, base: down.url });
    expect(back.body.data).toMatchObject({ action: "hangup" });
    expect((await turnsOf(callId)).map((row) => row.words)).toEqual(["再见"]);
  });
});
