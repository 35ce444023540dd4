/**
 * Outcome events end to end: a corpus pushed through the daemon (HTTP push, every receipt twice,
 * reconcile against the simulator) produces the expected events in the outbox, built from our
 * rows, each delivered exactly once to a real receiver that verifies every signature with
 * standardwebhooks, in order per call.
 *
 * Expected, per call: call.completed once the VoiceReport is applied (outbound) or an inbound
 * call has ended; call.reconciled once the detail is applied (simulated calls); call.not_found
 * for the fixture's outbound calls, which the simulator does not know and which ended long ago.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  createCallGenerator,
  generateDialogue,
  groupByType,
  playSmartCall,
  receiptsForCall,
  type Receipt,
  type Simulator,
} from "../../src/simulator/index.js";
import { CALLS, receiptsByType } from "../fixtures/corpus.js";
import type { TestApp } from "../helpers/app.js";
import type { TestDatabase } from "../helpers/db.js";
import { startReconcilingDaemon, type ReconcilingDaemon } from "../helpers/reconcile.js";
import { waitFor } from "../helpers/waitFor.js";
import {
  newSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../helpers/webhookReceiver.js";

let db: TestDatabase;
let sim: Simulator;
let t: TestApp;
let daemon: ReconcilingDaemon | undefined;
let receiver: WebhookReceiver;
/** Opted in to dialogue.turn only, through VMS_WEBHOOK_CONFIG. */
let turns: WebhookReceiver;
const secret = newSecret();
const gen = createCallGenerator({
  seed: 21,
  startTime: Date.now() - 20 * 60_000,
  discrepancyRate: 0.5,
});
const simCalls = gen.generate(8, ["voice", "ivr", "verification", "robot"]);

beforeAll(async () => {
  receiver = await startWebhookReceiver(secret);
  turns = await startWebhookReceiver(secret);
  const config = join(mkdtempSync(join(tmpdir(), "vr-hooks-")), "webhooks.json");
  writeFileSync(config, JSON.stringify([{ url: turns.url, types: ["dialogue.turn"] }]));
  daemon = await startReconcilingDaemon({
    simulator: { detailLagMs: 0, detailQps: 50 },
    env: {
      VMS_WEBHOOK_URLS: receiver.url,
      VMS_WEBHOOK_SECRET: secret,
      VMS_WEBHOOK_CONFIG: config,
    },
    delivery: { pollMs: 200 },
  });
  ({ db, sim, t } = daemon);
  sim.control.loadCalls(simCalls);
});
afterAll(async () => {
  await daemon?.stop();
  await receiver?.close();
  await turns?.close();
});

async function push(type: string, bodies: readonly unknown[]): Promise<void> {
  const res = await fetch(`${t.url}/push/${type}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(bodies),
  });
  expect(res.status).toBe(200);
}

interface EventRow {
  id: string;
  seq: string;
  type: string;
  call_id: string;
  payload: { type: string; data: Record<string, unknown> & { call?: Record<string, unknown> } };
}

async function eventsOf(): Promise<EventRow[]> {
  const { rows } = await db.pool.query<EventRow>(
    "select id, seq::text as seq, type, call_id, payload from events e order by e.seq",
  );
  return rows;
}

const simOutbound = simCalls.filter((c) => c.kind !== "inbound");
const fixtureOutbound = CALLS.filter((c) => !c.inbound);

/** Every call has every event it should (and a settled reconcile status). */
async function allSettled(): Promise<boolean> {
  const ev = await eventsOf();
  const has = (type: string, callId: string) =>
    ev.some((e) => e.type === type && e.call_id === callId);
  return (
    simOutbound.every((c) => has("call.completed", c.callId) && has("call.reconciled", c.callId)) &&
    fixtureOutbound.every((c) => has("call.not_found", c.callId))
  );
}

describe("outcome events from a corpus pushed through the daemon", () => {
  it("writes the expected events once and delivers each exactly once, signed, in order per call", async () => {
    // Every receipt twice, the second time in reverse order.
    const fixture = receiptsByType();
    const generated = groupByType(simCalls.flatMap((c) => receiptsForCall(c)));
    for (let round = 0; round < 2; round++) {
      for (const [type, bodies] of Object.entries(fixture)) {
        if (bodies.length > 0) {
          await push(type, round === 0 ? bodies : [...bodies].reverse());
        }
      }
      for (const [type, bodies] of generated) {
        await push(type, round === 0 ? bodies : [...(bodies as Receipt["body"][])].reverse());
      }
    }
    await waitFor(allSettled, { what: "every expected event", timeoutMs: 60_000 });
    const events = await eventsOf();
    await waitFor(() => events.every((e) => receiver.received.some((r) => r.id === e.id)), {
      what: "every event delivered",
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 1000));

    // Exactly the expected events, once per call and type.
    const count = (type: string, callId: string) =>
      events.filter((e) => e.type === type && e.call_id === callId).length;
    for (const c of CALLS) {
      // The VoiceReport is applied (1–3), or the inbound call ended (4); events-only outbound
      // calls (5) have no result yet: reconcile answers for them.
      const completes = c.report !== undefined || c.inbound === true ? 1 : 0;
      expect(count("call.completed", c.callId), c.callId).toBe(completes);
      expect(count("call.not_found", c.callId), c.callId).toBe(c.inbound ? 0 : 1);
      expect(count("call.reconciled", c.callId), c.callId).toBe(0);
    }
    for (const c of simOutbound) {
      expect(count("call.completed", c.callId), c.callId).toBe(1);
      expect(count("call.reconciled", c.callId), c.callId).toBeGreaterThanOrEqual(1);
    }

    // Delivered exactly once each, every signature valid, in order per call.
    expect(receiver.rejected).toEqual([]);
    const ids = receiver.received.map((r) => r.id);
    expect([...ids].sort()).toEqual(events.map((e) => e.id).sort());
    for (const callId of new Set(events.map((e) => e.call_id))) {
      const order = events.filter((e) => e.call_id === callId).map((e) => e.id);
      expect(
        ids.filter((id) => order.includes(id)),
        callId,
      ).toEqual(order);
    }
    for (const r of receiver.received) {
      expect(r.payload).toEqual(events.find((e) => e.id === r.id)?.payload);
    }

    // The payload is the call as in `calls`.
    const ivr = events.find((e) => e.type === "call.completed" && e.call_id === CALLS[0]!.callId);
    expect(ivr?.payload.data.call).toMatchObject({
      call_id: CALLS[0]!.callId,
      out_id: "ivr-0001",
      direction: "outbound",
      caller: "05712000000",
      callee: "13800000001",
      status: { code: "200000", answered: true },
      start_time: "2026-11-20T10:00:10+08:00",
      end_time: "2026-11-20T10:00:40+08:00",
      duration_seconds: 30,
      dtmf: "12#",
    });
    const inbound = events.find(
      (e) => e.type === "call.completed" && e.call_id === CALLS[3]!.callId,
    );
    expect(inbound?.payload.data.call).toMatchObject({
      direction: "inbound",
      last_event: { code: "200100", time: "2026-11-20T13:02:00+08:00" },
    });
    const changed = events.filter((e) => e.type === "call.reconciled");
    expect(changed.every((e) => typeof e.payload.data.changed === "boolean")).toBe(true);
    const notFound = events.find((e) => e.type === "call.not_found");
    expect(notFound?.payload.data.call).toMatchObject({ reconcile: { status: "not_found" } });
  });
});

describe("dialogue.turn (opt-in)", () => {
  it("sends each answered smart-call turn to the endpoint that opted in, and only there", async () => {
    const callId = "930000000000^000000000001";
    const dialogue = generateDialogue({ seed: 3, middleTurns: 2 });
    const play = await playSmartCall({
      url: `${t.url}/smart-call/callback`,
      call: { callId },
      turns: dialogue,
    });
    const { rows } = await db.pool.query<{ n: number }>(
      "select count(*)::int as n from dialogue_turns where call_id = $1 and answered_at is not null",
      [callId],
    );
    const answered = rows[0]!.n;
    expect(answered).toBe(play.turnsSent);
    await waitFor(() => turns.received.length >= answered, { what: "dialogue.turn delivered" });
    expect(turns.received.every((r) => r.type === "dialogue.turn")).toBe(true);
    expect(turns.rejected).toEqual([]);
    const first = turns.received[0]!.payload.data.turn as Record<string, unknown>;
    expect(first).toMatchObject({ call_id: callId });
    expect(first.time).toMatch(/\+08:00$/);
    expect(receiver.received.some((r) => r.type === "dialogue.turn")).toBe(false);
  });
});
