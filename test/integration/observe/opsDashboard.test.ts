/**
 * deploy/grafana/voice-receipts-ops.json against a real Prometheus: the daemon is fed a known
 * corpus through every path the dashboard shows (MNS with a failed poll, HTTP pushes with
 * duplicates and an invalid receipt, reconcile against the simulator with a throttled and a
 * failed call), Prometheus scrapes it every second, and every panel's PromQL,
 * with the dashboard's variables substituted as Grafana would, returns at least one series with
 * a finite value.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  THROTTLING_CODE,
  groupByType,
  receiptsForCall,
  type Receipt,
  type Simulator,
} from "../../../src/simulator/index.js";
import { MALFORMED } from "../../fixtures/corpus.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";
import { distinctKeys, mnsEnv, queuesEmpty, startMnsSimulator } from "../../helpers/mnsSetup.js";
import { callsSettled } from "../../helpers/reconcile.js";
import { deleteKeysWithPrefix, randomPrefix } from "../../helpers/redis.js";
import { waitFor } from "../../helpers/waitFor.js";
import {
  newSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../helpers/webhookReceiver.js";
import { startPrometheus, type TestPrometheus } from "./prometheus.js";
import { missing } from "./tools.js";

const DASHBOARD = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../../deploy/grafana/voice-receipts-ops.json",
);

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: (Target & { datasource?: { type: string; uid: string } })[];
}
interface Dashboard {
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
}

const skip = missing("prometheus");
let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
let prom: TestPrometheus;
const prefix = randomPrefix();
let receiver: WebhookReceiver;
const secret = newSecret();

async function push(type: string, body: unknown): Promise<number> {
  const res = await fetch(`${t.url}/push/${type}`, { method: "POST", body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

async function pushAll(receipts: readonly Receipt[]): Promise<void> {
  for (const [type, bodies] of groupByType(receipts)) {
    expect(await push(type, bodies)).toBe(200);
  }
}

async function stored(keys: Set<string>): Promise<boolean> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from receipts where dedup_key = any($1) and processed_at is not null",
    [[...keys]],
  );
  return rows[0]?.n === keys.size;
}

/** The corpus, through every path a panel shows. */
async function feed(): Promise<void> {
  // One throttled and one failed QueryCallDetailByCallId, one failed MNS poll.
  sim.control.injectFault("detail", { kind: "error", status: 400, code: THROTTLING_CODE });
  sim.control.injectFault("detail", { kind: "error", status: 500, code: "InternalError" });
  sim.control.injectFault("mns", { kind: "error", status: 500, code: "InternalError" });
  const calls = sim.control.generateCalls(12, ["voice", "ivr", "robot"]);
  const viaMns = sim.control.deliverCallsToMns(calls.slice(0, 6));
  const viaHttp = calls.slice(6).flatMap(receiptsForCall);
  await pushAll(viaHttp);
  await pushAll(viaHttp.slice(0, 3)); // duplicates
  const bad = MALFORMED.filter((m) => m.type === "VoiceReport").map((m) => m.item);
  expect(await push("VoiceReport", bad)).toBe(200); // kept in rejected_receipts

  const all = distinctKeys([...viaMns, ...viaHttp]);
  await waitFor(() => stored(all), { timeoutMs: 30_000, what: "every receipt applied" });
  await waitFor(() => queuesEmpty(sim), { timeoutMs: 15_000, what: "every message deleted" });
  const ids = calls.map((c) => c.callId);
  await waitFor(() => callsSettled(db.pool, ids, ["reconciled"]), {
    timeoutMs: 30_000,
    what: "every call reconciled",
  });
  await waitFor(() => receiver.received.length > 0, { what: "an outcome event delivered" });
}

beforeAll(async () => {
  if (skip) {
    return;
  }
  db = await createTestDatabase();
  sim = await startMnsSimulator({ visibilityTimeoutSeconds: 1 });
  // The webhook panels: the corpus' outcome events go to a receiver that answers 2xx.
  receiver = await startWebhookReceiver(secret);
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: mnsEnv(sim, {
      VMS_MNS_WAIT_SECONDS: "1",
      VMS_RECONCILE: "on",
      VMS_RECONCILE_DELAY_SECONDS: "0",
      VMS_RECONCILE_QPS: "20",
      VMS_RECONCILE_GIVE_UP_HOURS: "1",
      VMS_WEBHOOK_URLS: receiver.url,
      VMS_WEBHOOK_SECRET: secret,
    }),
    delivery: { pollMs: 200, statsMs: 1000 },
  });
  prom = await startPrometheus([new URL(t.url).host]);
  // rate() sees only increments after the first scrape.
  await waitFor(async () => (await prom.query('up{job="voice-receipts"} == 1')).length > 0, {
    timeoutMs: 20_000,
    what: "the first scrape",
  });
  await feed();
}, 120_000);
afterAll(async () => {
  await prom?.stop();
  await t?.stop();
  await receiver?.close();
  await sim?.close();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

/** Grafana's substitutions for a query over the last few minutes of this test. */
function substitute(expr: string, vars: Record<string, string>): string {
  let out = expr
    .replaceAll("$__rate_interval", "5m")
    .replaceAll("$__range", "5m")
    .replaceAll("$__interval", "15s");
  for (const [name, value] of Object.entries(vars)) {
    out = out.replaceAll(`\${${name}}`, value).replaceAll(`$${name}`, value);
  }
  expect(out, "every variable substituted").not.toMatch(/\$\{?\w/);
  return out;
}

describe.skipIf(skip)("deploy/grafana/voice-receipts-ops.json", () => {
  it("is importable as is: a prometheus datasource variable, no fixed datasource uid", async () => {
    const text = await readFile(DASHBOARD, "utf8");
    const d = JSON.parse(text) as Dashboard;
    const ds = d.templating.list.find((v) => v.name === "datasource");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    const panels = d.panels.filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const p of panels) {
      expect(p.description, `${p.title}: the question it answers`).toBeTruthy();
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      for (const target of p.targets ?? []) {
        expect(target.datasource?.uid, p.title).toBe("${datasource}");
      }
    }
    // Every uid in the file is the variable.
    for (const m of text.matchAll(/"uid":\s*"([^"]*)"/g)) {
      expect(["${datasource}", "voice-receipts-ops"]).toContain(m[1]);
    }
  });

  it("answers every panel's query with at least one series from the fed daemon", async () => {
    const d = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
    const instances = await waitFor(
      async () => {
        const v = await prom.labelValues("instance", "voice_receipts_process_start_time_seconds");
        return v.length > 0 ? v : undefined;
      },
      { timeoutMs: 20_000, what: "the daemon scraped" },
    );
    expect(instances).toEqual([new URL(t.url).host]);
    const vars = { instance: instances[0]!, datasource: "prometheus" };
    // Every increment of the corpus is in Prometheus once a scrape started after the feed ended.
    const fed = Date.now() / 1000;
    await waitFor(
      async () => {
        const [up] = await prom.query('timestamp(up{job="voice-receipts"})');
        return up !== undefined && Number(up.value[1]) > fed + 1;
      },
      { timeoutMs: 10_000, what: "a scrape after the feed" },
    );
    const empty: string[] = [];
    for (const panel of d.panels.filter((p) => p.type !== "row")) {
      for (const target of panel.targets ?? []) {
        const expr = substitute(target.expr, vars);
        const series = await prom.query(expr);
        if (series.length === 0 || !series.every((x) => Number.isFinite(Number(x.value[1])))) {
          empty.push(`${panel.title} [${target.refId}]: ${expr} → ${JSON.stringify(series)}`);
        }
      }
    }
    expect(empty, "panels without a finite series").toEqual([]);
  });
});
