/**
 * The call explorer at /ui in headless Chromium, over data that went through the real pipeline
 * (seed.ts): 401 without the token, search by out_id, a call's page (events in order with their
 * meanings, the discrepancy highlighted, the recording link followed), paging, masked numbers
 * and a number search that never reaches a URL or the log, rejected receipts, the recording
 * played from the daemon's own store (VMS_RECORDINGS_STORE on a temporary directory) and the
 * call's webhook deliveries to a real receiver. The README's
 * pictures are taken here (VR_UPDATE_SCREENSHOTS=1 writes them to docs/img, as the board test).
 */
import type { Server } from "node:http";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { reportCommand } from "../../../src/cli/report.js";
import { formatBeijingDate } from "../../../src/domain/time.js";
import { callEventMeaning, statusMeaning } from "../../../src/domain/statusCodes.js";
import { receiptsForCall, startSimulator, type Simulator } from "../../../src/simulator/index.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../../helpers/redis.js";
import { reconcileEnv } from "../../helpers/reconcile.js";
import { waitFor } from "../../helpers/waitFor.js";
import {
  newSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../helpers/webhookReceiver.js";
import { captureStream } from "../../helpers/streams.js";
import { launchBrowser, type TestBrowser } from "../observe/browser.js";
import { missing } from "../observe/tools.js";
import { seed, startRecordingHost, type Seeded } from "./seed.js";

const ADMIN_TOKEN = "ui-test-admin-token";
const WEBHOOK_SECRET = newSecret();
const IMG_DIR =
  process.env.VR_UPDATE_SCREENSHOTS === "1"
    ? join(dirname(fileURLToPath(import.meta.url)), "../../../docs/img")
    : join(tmpdir(), `vr-ui-${process.pid}`);

let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
let host: { url: string; server: Server };
let data: Seeded;
let browser: TestBrowser | undefined;
let receiver: WebhookReceiver;
let storeDir: string;
const prefix = randomPrefix();
const skip = missing("chromium");

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ detailLagMs: 0, detailQps: 50 });
  host = await startRecordingHost();
  receiver = await startWebhookReceiver(WEBHOOK_SECRET);
  storeDir = await mkdtemp(join(tmpdir(), "vr-ui-store-"));
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: {
      VMS_ADMIN_TOKEN: ADMIN_TOKEN,
      ...reconcileEnv(sim, { VMS_RECONCILE_QPS: "50" }),
      // Recordings downloaded from the local recording host into a directory of this test.
      VMS_RECORDINGS_STORE: `file://${storeDir}`,
      VMS_RECORDINGS_HOSTS: "127.0.0.1",
      VMS_WEBHOOK_URLS: receiver.url,
      VMS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    recordings: { pollMs: 100, backoffMs: 200, leaseMs: 3000 },
    delivery: { pollMs: 100 },
  });
  data = await seed({ appUrl: t.url, sim, pool: db.pool, recordingHost: host.url, count: 64 });
}, 120_000);

afterAll(async () => {
  if (process.env.VR_UPDATE_SCREENSHOTS !== "1") {
    await rm(IMG_DIR, { recursive: true, force: true });
  }
  await browser?.close();
  await t?.stop();
  await sim?.close();
  await new Promise((r) => host?.server.close(r));
  await receiver?.close();
  await rm(storeDir, { recursive: true, force: true });
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

const ui = (path = "", init: RequestInit = {}) => fetch(`${t.url}/ui${path}`, init);
const bearer = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };

async function openBrowser() {
  browser ??= await launchBrowser();
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

async function picture(page: Page, name: string) {
  await mkdir(IMG_DIR, { recursive: true });
  await page.screenshot({ path: join(IMG_DIR, name), fullPage: true });
  expect((await stat(join(IMG_DIR, name))).size).toBeGreaterThan(10_000);
}

/** `voice-receipts report <name> --format json` on the test database, as rows. */
async function report(name: string, from: string, to: string): Promise<Record<string, unknown>[]> {
  const out = captureStream();
  await reportCommand(
    name,
    undefined,
    { from, to, format: "json" },
    {
      env: { DATABASE_URL: db.url },
      stdout: out.stream,
    },
  );
  return JSON.parse(out.text()) as Record<string, unknown>[];
}

const pct = (v: unknown) => `${((v as number) * 100).toFixed(1)} %`;

describe("the call explorer over HTTP", () => {
  it("answers 401 on every page without the admin token", async () => {
    const callPath = `/calls/${encodeURIComponent(data.featured.callId)}`;
    for (const res of [
      await ui(),
      await ui("/overview"),
      await ui("/rejected"),
      await ui(callPath),
      await ui("/assets/uplot.js"),
      await ui("/search", { method: "POST", body: new URLSearchParams({ out_id: "x" }) }),
      await ui("", { headers: { authorization: "Bearer wrong" } }),
      await ui("", { headers: { cookie: `vr_ui=${ADMIN_TOKEN}` } }),
      await ui("?token=wrong", { redirect: "manual" }),
    ]) {
      expect(res.status, res.url).toBe(401);
      expect(await res.text()).not.toContain(data.featured.callId);
    }
    expect((await ui(callPath, bearer)).status).toBe(200);
  });

  it("serves uPlot from the package itself (no CDN)", async () => {
    const js = await ui("/assets/uplot.js", bearer);
    expect(js.status).toBe(200);
    expect(await js.text()).toContain("uPlot");
    const overview = await (await ui("/overview", bearer)).text();
    expect(overview).not.toMatch(/src="https?:|href="https?:/);
  });

  it("refuses a damaged or foreign search link instead of showing everything", async () => {
    const res = await ui("?q=AAAA", bearer);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("search again");
  });
});

describe.skipIf(skip)("the call explorer in Chromium", () => {
  it("finds a call by out_id and shows its events in order, meanings, discrepancy and recording", async () => {
    const call = data.featured;
    const page = await openBrowser();
    expect((await page.goto(`${t.url}/ui`))?.status()).toBe(401);
    await page.goto(`${t.url}/ui?token=${ADMIN_TOKEN}`);
    expect(page.url()).toBe(`${t.url}/ui`);

    await page.fill("input[name=out_id]", call.outId!);
    await page.click("button[type=submit]");
    const row = page.locator("table.calls tbody tr", { hasText: call.callId });
    await row.waitFor();
    expect(page.url()).not.toContain(call.outId!);
    await picture(page, "explorer-search.png");

    await row.getByRole("link", { name: call.callId }).click();
    await page.waitForURL(`**/ui/calls/${encodeURIComponent(call.callId)}`);
    // Events as the platform sent them, in time order, each with its meaning.
    const expected = receiptsForCall(call)
      .filter((r) => r.messageType === "VoiceCallReport")
      .map((r) => r.body as { status_code: string; status_time: string })
      .sort((a, b) => a.status_time.localeCompare(b.status_time))
      .map((b) => b.status_code);
    const codes = await page.locator("table.timeline tr.event .event-code").allTextContents();
    expect(codes).toEqual(expected);
    const meanings = await page.locator("table.timeline tr.event .meaning").allTextContents();
    expect(meanings).toEqual(expected.map((c) => callEventMeaning(c) ?? statusMeaning(c)));
    // The field where the detail disagrees with the VoiceReport is highlighted.
    const field = call.discrepancy === "state" ? "status_code" : "duration_seconds";
    await expect
      .poll(() => page.locator("table.compare tr.discrepancy").getAttribute("data-field"))
      .toBe(field);
    // The smart-call conversation, each turn with the answer the daemon gave.
    const turns = page.locator("table.timeline tr.dialogue");
    expect(await turns.count()).toBe(data.turns);
    const said = await turns.allInnerTexts();
    expect(
      said.filter((x) => /answered\s+\S+.*\bby (default|rules|webhook)\b/.test(x)),
    ).not.toEqual([]);
    // Receipts with their source and raw body on demand; numbers masked.
    const receipts = page.locator("table.timeline tr.receipt");
    expect(await receipts.count()).toBe(receiptsForCall(call).length);
    expect(await page.content()).not.toContain(call.callee);
    expect(await page.content()).toContain(call.callee.slice(-4));
    await picture(page, "explorer-call.png");

    // The recording link, followed.
    const link = page.locator("a.recording");
    expect(await link.getAttribute("href")).toBe(call.recordFile);
    expect(await page.locator("tr.recording").textContent()).toMatch(/link expires \d{4}-/);
    // Registered before the click: the popup may load before anything could listen on it.
    const followed = browser!.context.waitForEvent("response", (r) => r.url() === call.recordFile);
    const [popup] = await Promise.all([page.waitForEvent("popup"), link.click()]);
    const response = await followed;
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toBe("audio/wav");
    await popup.close();

    // Show numbers: the switch is per page and puts no number in the URL.
    await page.getByRole("link", { name: "Show numbers" }).click();
    expect(page.url()).toContain("numbers=shown");
    expect(await page.content()).toContain(call.callee);
    await page.close();
  }, 90_000);

  it("plays the stored copy of the recording and lists the call's webhook deliveries", async () => {
    const call = data.featured;
    // The fetcher stores the recording, and the call's outcome events reach the receiver.
    const stored = await waitFor(
      async () => {
        const { rows } = await db.pool.query<{ id: string; sha256: string; bytes: string }>(
          `select id::text as id, sha256, bytes::text as bytes from recordings
            where call_id = $1 and fetch_status = 'stored'`,
          [call.callId],
        );
        return rows[0];
      },
      { timeoutMs: 30_000, what: "the featured call's recording stored" },
    );
    await waitFor(
      async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `select count(*)::int as n from deliveries
            where call_id = $1 and event_type = 'call.completed' and status = 'delivered'`,
          [call.callId],
        );
        return rows[0]?.n === 1;
      },
      { timeoutMs: 30_000, what: "the featured call's call.completed delivered" },
    );
    const page = await openBrowser();
    await page.goto(`${t.url}/ui?token=${ADMIN_TOKEN}`);
    const callPath = `/ui/calls/${encodeURIComponent(call.callId)}`;
    expect((await page.goto(`${t.url}${callPath}`))?.status()).toBe(200);

    // The player's source answers with the stored bytes, whatever Alibaba's link does.
    const src = await page.locator("tr.recording audio").getAttribute("src");
    expect(src).toBe(`${callPath}/recording?id=${stored.id}`);
    const res = await page.request.get(`${t.url}${src}`);
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toBe("audio/wav");
    expect(res.headers()["content-length"]).toBe(stored.bytes);
    const bytes = await res.body();
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(stored.sha256);
    expect(bytes.subarray(0, 4).toString()).toBe("RIFF");
    // Chromium itself decodes it as audio (readyState HAVE_METADATA or more, a 0.1 s duration).
    type Audio = { preload: string; load(): void; readyState: number; duration: number };
    const audio = page.locator("tr.recording audio");
    await audio.evaluate((el) => {
      const a = el as unknown as Audio;
      a.preload = "auto";
      a.load();
    });
    await expect
      .poll(() => audio.evaluate((el) => (el as unknown as Audio).readyState))
      .toBeGreaterThan(0);
    expect(await audio.evaluate((el) => (el as unknown as Audio).duration)).toBeCloseTo(0.1, 2);
    // Another call's path, an unknown id, a malformed id, or no token: nothing.
    const other = data.calls.find((c) => c.callId !== call.callId)!;
    for (const path of [
      `/ui/calls/${encodeURIComponent(other.callId)}/recording?id=${stored.id}`,
      `${callPath}/recording?id=999999999`,
      `${callPath}/recording?id=1x`,
      `${callPath}/recording`,
    ]) {
      expect((await page.request.get(`${t.url}${path}`)).status(), path).toBe(404);
    }
    expect((await fetch(`${t.url}${src}`)).status).toBe(401);

    // Each outcome event of the call with its attempts, as the deliveries table has them.
    const { rows: expected } = await db.pool.query<{ event_id: string; event_type: string }>(
      `select e.id as event_id, e.type as event_type from events e
         join deliveries d on d.event_id = e.id
        where e.call_id = $1 order by e.seq, d.endpoint, d.attempt, d.id`,
      [call.callId],
    );
    await page.reload();
    const rows = page.locator("table.deliveries tbody tr");
    expect(await rows.locator(".event-type").allTextContents()).toEqual(
      expected.map((r) => r.event_type),
    );
    const completed = page.locator("table.deliveries tbody tr", { hasText: "call.completed" });
    expect(await completed.locator(".delivery-status").textContent()).toMatch(
      /delivered\s+HTTP 204/,
    );
    expect(await completed.textContent()).toContain(new URL(receiver.url).pathname);
    // The very event the receiver verified and acknowledged (webhook-id is the event id).
    const shown = await completed.getAttribute("data-event");
    expect(receiver.received.find((r) => r.id === shown)?.type).toBe("call.completed");
    await page.close();
  }, 90_000);

  it("pages through every call, newest first, without repeating one", async () => {
    const page = await openBrowser();
    await page.goto(`${t.url}/ui?token=${ADMIN_TOKEN}`);
    const seen: string[] = [];
    for (let n = 0; n < 10; n++) {
      seen.push(...(await page.locator("table.calls tbody tr td:nth-child(2)").allTextContents()));
      const older = page.getByRole("link", { name: "Older »" });
      if ((await older.count()) === 0) {
        break;
      }
      await older.click();
      await page.waitForLoadState();
    }
    const { rows } = await db.pool.query<{ call_id: string }>(
      `select call_id from calls
        order by coalesce(start_time, end_time, originate_time, ring_time, last_event_time, created_at) desc,
                 call_id desc`,
    );
    expect(seen).toEqual(rows.map((r) => r.call_id));
    expect(seen.length).toBeGreaterThan(50);
    await page.close();
  }, 60_000);

  it("searches by a full number without the number reaching a URL or the log", async () => {
    const call = data.calls.find((c) => c.kind !== "inbound" && c !== data.featured)!;
    const page = await openBrowser();
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(`${t.url}/ui?token=${ADMIN_TOKEN}`);
    await page.fill("input[name=number]", call.callee);
    await page.click("button[type=submit]");
    await page.locator("table.calls tbody tr", { hasText: call.callId }).waitFor();
    // By its last four digits too.
    const rows = await page.locator("table.calls tbody tr").count();
    expect(rows).toBeGreaterThanOrEqual(1);
    // Paging and the number switch keep the search, still without the number.
    await page.getByRole("link", { name: "Show numbers" }).click();
    await page.locator("table.calls tbody tr", { hasText: call.callId }).waitFor();
    for (const u of urls) {
      expect(u).not.toContain(call.callee);
      expect(u).not.toContain(call.callee.slice(-7));
    }
    expect(t.logs()).not.toContain(call.callee);
    await page.goto(`${t.url}/ui`);
    await page.fill("input[name=number]", call.callee.slice(-4));
    await page.click("button[type=submit]");
    await page.locator("table.calls tbody tr", { hasText: call.callId }).waitFor();
    await page.close();
  }, 60_000);

  it("lists rejected receipts by reason with their raw body and origin", async () => {
    const page = await openBrowser();
    await page.goto(`${t.url}/ui/rejected?token=${ADMIN_TOKEN}`);
    const row = page.locator("table.rejected tbody tr", { hasText: data.rejectedReason });
    await row.waitFor();
    expect(await row.locator("td").nth(1).textContent()).toBe("http");
    expect(await row.locator("td").nth(2).textContent()).toBe("push#1");
    await row.locator("summary").click();
    expect(await row.locator("pre").textContent()).toContain("not a receipt");
    await row.getByRole("link", { name: data.rejectedReason }).click();
    await page.waitForURL(/reason=/);
    expect(await page.locator("table.rejected tbody tr").count()).toBe(1);
    await picture(page, "explorer-rejected.png");
    await page.close();
  }, 60_000);

  it("shows the same numbers as `report daily` and `report status` in the overview", async () => {
    const to = formatBeijingDate(new Date());
    const from = formatBeijingDate(new Date(Date.now() - 2 * 86_400_000));
    const page = await openBrowser();
    await page.goto(`${t.url}/ui/overview?token=${ADMIN_TOKEN}&from=${from}&to=${to}`);
    // uPlot drew both charts.
    await page.locator("#chart-daily canvas").waitFor();
    await page.locator("#chart-hourly canvas").waitFor();
    const cells = async (table: string) =>
      (await page.locator(`table#${table} tbody tr`).all()).length === 0
        ? []
        : Promise.all(
            (await page.locator(`table#${table} tbody tr`).all()).map((r) =>
              r.locator("td").allInnerTexts(),
            ),
          );

    const daily = await report("daily", from, to);
    expect(daily.length).toBeGreaterThan(0);
    expect(await cells("daily")).toEqual(
      daily.map((r) => [
        String(r.day),
        String(r.calls),
        String(r.answered),
        pct(r.answer_rate),
        String(r.total_talk_seconds),
        r.avg_talk_seconds === null ? "" : String(r.avg_talk_seconds),
      ]),
    );
    const status = await report("status", from, to);
    expect(await cells("status")).toEqual(
      status.map((r) => [
        r.status_code === null ? "none" : String(r.status_code),
        r.meaning === null ? "" : String(r.meaning),
        String(r.calls),
        pct(r.share),
      ]),
    );
    // The hours of the shown day add up to its row of the daily report.
    const hours = await cells("hourly");
    const today = daily.find((r) => r.day === to);
    const sum = (i: number) => hours.reduce((n, h) => n + Number(h[i]), 0);
    expect(sum(1)).toBe(today?.calls ?? 0);
    expect(sum(2)).toBe(today?.answered ?? 0);
    // Rejected receipts per reason.
    expect(await cells("rejected")).toEqual([[data.rejectedReason, "1"]]);
    await picture(page, "explorer-overview.png");
    await page.close();
  }, 60_000);
});
