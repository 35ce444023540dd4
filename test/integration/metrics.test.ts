/**
 * /metrics after a known corpus: the named series exist and carry the values the corpus implies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MALFORMED, receiptsByType } from "../fixtures/corpus.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { deleteKeysWithPrefix, randomPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/waitFor.js";

let db: TestDatabase;
let t: TestApp;
const prefix = randomPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestApp({ databaseUrl: db.url, prefix });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await deleteKeysWithPrefix(prefix);
});

async function push(type: string, body: unknown): Promise<number> {
  const res = await fetch(`${t.url}/push/${type}`, { method: "POST", body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** The value of one series in Prometheus text, or undefined when absent. */
function series(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) {
      continue;
    }
    const inside = /\{([^}]*)\}/.exec(line)?.[1] ?? "";
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

describe("GET /metrics", () => {
  it("reports receipts, pushes, persistence, queues and the process after a known corpus", async () => {
    const byType = receiptsByType();
    const reports = byType.VoiceReport!;
    const events = byType.VoiceCallReport!;
    const malformedReports = MALFORMED.filter((m) => m.type === "VoiceReport").map((m) => m.item);
    expect(await push("VoiceReport", [...reports, ...malformedReports])).toBe(200);
    expect(await push("VoiceReport", reports)).toBe(200); // all duplicates
    expect(await push("VoiceCallReport", events)).toBe(200);
    expect(await push("Nope", [])).toBe(404);
    await waitFor(
      async () =>
        (await db.pool.query("select 1 from receipts where processed_at is null")).rows.length ===
        0,
      {
        what: "receipts applied",
      },
    );

    const text = await (await fetch(`${t.url}/metrics`)).text();
    const r = (type: string, outcome: string) =>
      series(text, "voice_receipts_receipts_total", { source: "http", type, outcome });
    expect(r("VoiceReport", "accepted")).toBe(reports.length);
    expect(r("VoiceReport", "duplicate")).toBe(reports.length);
    expect(r("VoiceReport", "rejected")).toBe(malformedReports.length);
    expect(r("VoiceCallReport", "accepted")).toBe(events.length);

    expect(
      series(text, "voice_receipts_push_requests_total", { type: "VoiceReport", status: "200" }),
    ).toBe(2);
    expect(
      series(text, "voice_receipts_push_requests_total", { type: "unknown", status: "404" }),
    ).toBe(1);
    expect(series(text, "voice_receipts_push_duration_seconds_count")).toBe(4);

    expect(series(text, "voice_receipts_persisted_total", { type: "VoiceReport" })).toBe(
      reports.length,
    );
    expect(series(text, "voice_receipts_persisted_total", { type: "VoiceCallReport" })).toBe(
      events.length,
    );
    expect(series(text, "voice_receipts_queue_jobs", { queue: "receipts", state: "waiting" })).toBe(
      0,
    );
    expect(series(text, "voice_receipts_queue_jobs", { queue: "receipts", state: "failed" })).toBe(
      0,
    );
    expect(series(text, "voice_receipts_queue_oldest_job_age_seconds", { queue: "receipts" })).toBe(
      0,
    );
    expect(series(text, "voice_receipts_process_resident_memory_bytes")).toBeGreaterThan(0);
    for (const name of [
      "voice_receipts_mns_polls_total",
      "voice_receipts_reconcile_calls_total",
      "voice_receipts_reconcile_limiter_wait_seconds",
      "voice_receipts_smart_call_callbacks_total",
    ]) {
      expect(text, name).toContain(`# TYPE ${name}`);
    }
  });
});
