/**
 * The queue board behind VMS_ADMIN_TOKEN, in headless Chromium and over its HTTP API: every
 * queue of the catalogue is listed, a failed job shows its reason, the push token never opens
 * it, and retrying the failed job from the board runs the normal persistence worker once the
 * cause is gone — with the same effect however often it is retried.
 *
 * The failed job: a PostgreSQL trigger refuses one call, and the job is on its last attempt
 * (attempts: 1), so it fails for good at once instead of after the catalogue's hours of backoff.
 * Its receipt is made durable the way intake does it, without a job of its own.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { normalizeReceipt } from "../../../src/domain/receipt.js";
import { JOB_CATALOG, QUEUE_NAMES, persistJobId } from "../../../src/pipeline/jobs.js";
import { insertReceipts } from "../../../src/store/receipts/insert.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../../helpers/redis.js";
import { waitFor } from "../../helpers/waitFor.js";
import { launchBrowser, type TestBrowser } from "./browser.js";
import { missing } from "./tools.js";

const ADMIN_TOKEN = "board-test-admin-token";
const PUSH_TOKEN = "board-test-push-token";
const BLOCKED_CALL = "900000000001^900000000002";
const SHOWN_CALL = "900000000003^900000000004";
const reasonFor = (callId: string) => `blocked by the board test: call ${callId}`;
// The README's pictures: refreshed with VR_UPDATE_SCREENSHOTS=1 (so a plain test run leaves the
// working tree clean); otherwise the test still takes them, into a temporary folder.
const IMG_DIR =
  process.env.VR_UPDATE_SCREENSHOTS === "1"
    ? join(dirname(fileURLToPath(import.meta.url)), "../../../docs/img")
    : join(tmpdir(), `vr-board-${process.pid}`);

let db: TestDatabase;
let t: TestApp;
let queue: Queue;
let browser: TestBrowser | undefined;
const prefix = randomPrefix();
const skip = missing("chromium");

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestApp({
    databaseUrl: db.url,
    prefix,
    env: { VMS_ADMIN_TOKEN: ADMIN_TOKEN, VMS_PUSH_TOKEN: PUSH_TOKEN },
    // No sweep during the test: the failed job's receipt must wait for the board's retry.
    sweep: { intervalMs: 3600_000 },
  });
  queue = new Queue(QUEUE_NAMES.receipts, { connection: { url: inject("redisUrl") }, prefix });
});
afterAll(async () => {
  if (process.env.VR_UPDATE_SCREENSHOTS !== "1") {
    await rm(IMG_DIR, { recursive: true, force: true });
  }
  await browser?.close();
  await queue?.close();
  await t?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

const board = (path = "", init: RequestInit = {}) => fetch(`${t.url}/admin/queues${path}`, init);
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** A failed persist job whose receipt's call the database refuses, as the board shows it. */
async function failedJob(callId: string): Promise<{ jobId: string; receiptId: number }> {
  await db.pool.query(`
    create or replace function board_test_block() returns trigger language plpgsql as $$
    begin
      if new.call_id = '${callId}' then
        raise exception 'blocked by the board test: call %', new.call_id;
      end if;
      return new;
    end $$;
    create or replace trigger board_test_block before insert or update on calls
      for each row execute function board_test_block();`);
  const raw = {
    call_id: callId,
    status_code: "200000",
    status_msg: "用户听完语音",
    out_id: `board-${callId.slice(-1)}`,
    start_time: "2026-11-25 10:00:00",
    end_time: "2026-11-25 10:00:10",
    duration: "10",
  };
  const n = normalizeReceipt("VoiceReport", raw);
  if (!n.ok) {
    throw new Error(n.reason);
  }
  const [row] = await insertReceipts(db.pool, [
    {
      dedupKey: n.receipt.dedupKey,
      messageType: "VoiceReport",
      source: "http",
      callId: n.receipt.callId,
      outId: n.receipt.outId,
      statusCode: n.receipt.statusCode,
      eventTime: n.receipt.eventTime,
      bodyJson: JSON.stringify(raw),
    },
  ]);
  const receiptId = row!.id;
  const jobId = persistJobId([receiptId], `board-test-${callId}`);
  await queue.add(
    "persist",
    { receiptIds: [receiptId] },
    { ...JOB_CATALOG.persist.options, attempts: 1, jobId },
  );
  await waitFor(async () => (await queue.getJobState(jobId)) === "failed", {
    what: "the persist job failed",
  });
  return { jobId, receiptId };
}

const callRows = async (callId: string) =>
  (await db.pool.query("select * from calls where call_id = $1", [callId])).rows;

describe("the queue board at /admin/queues", () => {
  it("answers 401 without the admin token, and the push token never opens it", async () => {
    for (const res of [
      await board(),
      await board("/api/queues"),
      await board(`?token=${PUSH_TOKEN}`, { redirect: "manual" }),
      await board("/api/queues", bearer(PUSH_TOKEN)),
      await board("/api/queues", { headers: { "x-push-token": PUSH_TOKEN } }),
      await board("/api/queues", { headers: { cookie: `vr_board=${ADMIN_TOKEN}` } }),
      await board(`/api/queues/receipts/x/retry`, { method: "PUT", ...bearer("wrong") }),
    ]) {
      expect(res.status, res.url).toBe(401);
      expect(await res.text()).not.toContain(ADMIN_TOKEN);
    }
  });

  it("lists every queue of the job catalogue to the admin token", async () => {
    const res = await board("/api/queues", bearer(ADMIN_TOKEN));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(["receipts", "reconcile"]);
  });

  it("sets an HttpOnly cookie from ?token= and sends the browser on without the token", async () => {
    const res = await board(`/queue/receipts?token=${ADMIN_TOKEN}&status=failed`, {
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/queues/queue/receipts?status=failed");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^vr_board=[\w-]+; Path=\/admin\/queues; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(ADMIN_TOKEN);
    const session = cookie.split(";")[0]!;
    expect((await board("/api/queues", { headers: { cookie: session } })).status).toBe(200);
  });

  it("retries a failed job through the normal worker: the call appears once, a second retry changes nothing", async () => {
    const { jobId, receiptId } = await failedJob(BLOCKED_CALL);
    const job = await queue.getJob(jobId);
    expect(job?.failedReason).toContain(reasonFor(BLOCKED_CALL));
    expect(await callRows(BLOCKED_CALL)).toHaveLength(0);

    const shown = await board(`/api/queues/receipts/${jobId}`, bearer(ADMIN_TOKEN));
    expect(((await shown.json()) as { job: { failedReason: string } }).job.failedReason).toContain(
      reasonFor(BLOCKED_CALL),
    );

    await db.pool.query("drop trigger board_test_block on calls");
    for (let retry = 1; retry <= 2; retry++) {
      const before = (await queue.getJob(jobId))?.finishedOn;
      const res = await board(`/api/queues/receipts/${jobId}/retry`, {
        method: "PUT",
        ...bearer(ADMIN_TOKEN),
      });
      expect(res.status).toBe(204);
      await waitFor(
        async () => {
          const j = await queue.getJob(jobId);
          return (await j?.getState()) === "completed" && j?.finishedOn !== before;
        },
        { what: `retry ${retry} completed` },
      );
      const rows = await callRows(BLOCKED_CALL);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status_code: "200000", out_id: "board-2" });
      const { rows: receipts } = await db.pool.query(
        "select id::int, processed_at from receipts where call_id = $1",
        [BLOCKED_CALL],
      );
      expect(receipts).toHaveLength(1);
      expect(receipts[0]).toMatchObject({ id: receiptId, processed_at: expect.any(Date) });
    }
    // The second run found the receipt applied and applied nothing.
    expect((await queue.getJob(jobId))?.returnvalue).toEqual({ applied: 0, deadLettered: 0 });
  });

  it.skipIf(skip)(
    "shows every queue and a failed job's reason in Chromium, and 401 without the token",
    async () => {
      const { jobId } = await failedJob(SHOWN_CALL);
      browser = await launchBrowser();
      const page = await browser.context.newPage();
      page.setDefaultTimeout(15_000);

      const denied = await page.goto(`${t.url}/admin/queues`);
      expect(denied?.status()).toBe(401);

      await page.goto(`${t.url}/admin/queues?token=${ADMIN_TOKEN}`);
      expect(page.url()).toBe(`${t.url}/admin/queues`);
      for (const name of ["receipts", "reconcile"]) {
        await page
          .getByRole("link", { name: new RegExp(`^${name}`) })
          .first()
          .waitFor();
      }
      // The overview fills in after the sidebar: the picture must show the queues' cards.
      await page.getByText("Loading...").first().waitFor({ state: "hidden" });
      await page
        .getByText(/^\d+ Jobs$/)
        .first()
        .waitFor();
      await mkdir(IMG_DIR, { recursive: true });
      await page.screenshot({ path: join(IMG_DIR, "queue-board.png") });

      await page.goto(`${t.url}/admin/queues/queue/receipts?status=failed`);
      await page.getByText(reasonFor(SHOWN_CALL)).first().waitFor();
      await page.screenshot({ path: join(IMG_DIR, "queue-board-failed.png") });
      for (const name of ["queue-board.png", "queue-board-failed.png"]) {
        // A PNG of a real page, not an empty or error capture.
        expect((await stat(join(IMG_DIR, name))).size).toBeGreaterThan(10_000);
      }
      await page.getByText(jobId.slice(0, 12)).first().waitFor();
    },
    60_000,
  );
});
