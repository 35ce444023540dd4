/**
 * Test data for the call explorer, through the real pipeline: simulator calls whose receipts are
 * pushed over HTTP to the daemon, persisted by its workers and reconciled against the
 * simulator's QueryCallDetailByCallId (40 % of them disagreeing with their receipts on purpose),
 * plus one push whose second item is invalid (a rejected receipt). Recordings point at a real
 * local HTTP server that serves a short WAV, so a test can follow the link.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import type pg from "pg";

import {
  createCallGenerator,
  generateDialogue,
  playSmartCall,
  receiptsForCall,
  type SimCall,
  type Simulator,
} from "../../../src/simulator/index.js";
import { pushReceipts } from "../../helpers/push.js";
import { callsSettled } from "../../helpers/reconcile.js";
import { waitFor } from "../../helpers/waitFor.js";

/** A 0.1 s silent 8 kHz mono PCM WAV. */
export function silentWav(): Buffer {
  const samples = 800;
  const b = Buffer.alloc(44 + samples * 2);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(samples * 2, 40);
  return b;
}

export async function startRecordingHost(): Promise<{ url: string; server: Server }> {
  const wav = silentWav();
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/record/")) {
      res.writeHead(200, { "content-type": "audio/wav", "content-length": wav.length });
      res.end(wav);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export interface Seeded {
  calls: SimCall[];
  /** An outbound call with in-call events, a recording and a detail that disagrees. */
  featured: SimCall;
  rejectedReason: string;
  /** Dialogue turns played for the featured call (smart-call callbacks). */
  turns: number;
}

export async function seed(opts: {
  appUrl: string;
  sim: Simulator;
  pool: pg.Pool;
  recordingHost: string;
  count: number;
}): Promise<Seeded> {
  const gen = createCallGenerator({
    seed: 22,
    startTime: Date.now() - 30 * 60_000,
    discrepancyRate: 0.4,
  });
  const calls = [
    ...gen.generate(opts.count - 4, ["voice", "verification", "ivr", "robot"]),
    ...gen.generate(4, ["inbound"]),
  ].map((c) =>
    c.recordFile === undefined
      ? c
      : {
          ...c,
          recordFile: `${opts.recordingHost}/record/${c.callId.replace("^", "_")}.wav?Expires=${Math.floor(c.endTime / 1000) + 7 * 86400}&Signature=test`,
        },
  );
  const featured = calls.find(
    (c) =>
      c.discrepancy !== undefined &&
      c.recordFile !== undefined &&
      c.kind !== "inbound" &&
      c.outId !== undefined &&
      receiptsForCall(c).filter((r) => r.messageType === "VoiceCallReport").length >= 3,
  );
  if (!featured) {
    throw new Error("seed 22 has no call with events, a recording and a discrepancy");
  }
  opts.sim.control.loadCalls(calls);
  await pushReceipts(opts.appUrl, calls.flatMap(receiptsForCall));
  const rejectedReason = await pushOneInvalid(opts.appUrl, opts.pool);
  // A conversation on the featured call, answered by the daemon's default action.
  const play = await playSmartCall({
    url: `${opts.appUrl}/smart-call/callback`,
    call: { callId: featured.callId, startTime: featured.startTime ?? featured.originateTime },
    turns: generateDialogue({ seed: 3, middleTurns: 2 }),
  });
  const ids = calls.map((c) => c.callId);
  await waitFor(() => callsSettled(opts.pool, ids), {
    timeoutMs: 60_000,
    what: "every call settled",
  });
  // Every receipt applied too (events and recordings are written by the same workers).
  await waitFor(
    async () => {
      const { rows } = await opts.pool.query<{ n: number }>(
        "select count(*)::int as n from receipts where processed_at is null",
      );
      return rows[0]?.n === 0;
    },
    { timeoutMs: 30_000, what: "every receipt applied" },
  );
  return { calls, featured, rejectedReason, turns: play.turnsSent };
}

async function pushOneInvalid(url: string, pool: pg.Pool): Promise<string> {
  const res = await fetch(`${url}/push/VoiceReport`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([
      { call_id: "123456789012^223456789012", status_code: "200000", callee: "13912345678" },
      "not a receipt",
    ]),
  });
  if (res.status !== 200) {
    throw new Error(`invalid push: ${res.status}`);
  }
  const { rows } = await pool.query<{ reason: string }>(
    "select reason from rejected_receipts order by id desc limit 1",
  );
  if (!rows[0]) {
    throw new Error("the invalid item was not kept in rejected_receipts");
  }
  return rows[0].reason;
}
