/**
 * The loss checker (Jepsen's total-queue checker; faults and outcomes in docs/reliability.md): what
 * the simulated Alibaba side delivered against what PostgreSQL holds. Every delivered receipt is
 * classified by its dedup key:
 *   lost        acknowledged (HTTP 200, MNS delete) but not in `receipts`
 *   recovered   never acknowledged, yet stored (allowed: the ack was lost, not the receipt)
 *   unexpected  stored but never sent
 *   duplicates  more than one row for one key, in any table
 * plus calls without their row or not reconciled, quarantine misses for poison receipts, and
 * the detail API's busiest second against the quota.
 *
 * `checkDelivery` is pure (unit-tested on crafted inputs); `snapshotDatabase` reads the tables.
 */
import type pg from "pg";

import { normalizeReceipt } from "../../src/domain/receipt.js";

/** Everything the test sent, built up while it delivers (see ledger.ts). */
export interface Sent {
  /** Distinct valid receipts: dedup key → whether any delivery of it was acknowledged. */
  receipts: Map<string, { callId: string | null; acked: boolean }>;
  /** Natural keys (see eventKey/recordingKey) of the call_events and recordings rows expected. */
  events: Set<string>;
  recordings: Set<string>;
  /** Call ids expected in `calls`, and the outbound ones reconcile must settle. */
  calls: Set<string>;
  outboundCalls: Set<string>;
  /** Markers embedded in poison receipts; each must appear in some rejected_receipts.raw. */
  poison: Set<string>;
  /** Every delivery attempt: push POST attempts (receipts in them) and MNS messages sent. */
  pushedReceiptAttempts: number;
  mnsMessages: number;
}

export interface DbSnapshot {
  /** dedup_key → number of rows (more than 1 only if the unique key is ever weakened). */
  receipts: Map<string, number>;
  unprocessed: number;
  /** call_id → [rows, reconcile_status of the first]. */
  calls: Map<string, { rows: number; status: string }>;
  events: Map<string, number>;
  recordings: Map<string, number>;
  rejectedRaw: string[];
}

export interface DetailFigures {
  quota: number;
  /** Most requests (throttled ones included) the simulator saw in any sliding second. */
  maxAttemptsPerSecond: number;
  throttled: number;
  calls: number;
}

export interface CheckReport {
  delivered: number;
  distinctExpected: number;
  rows: number;
  lost: number;
  recovered: number;
  unexpected: number;
  duplicates: number;
  unprocessed: number;
  missingCalls: number;
  unexpectedCalls: number;
  notReconciled: number;
  missingEvents: number;
  missingRecordings: number;
  poison: number;
  quarantined: number;
  poisonMissing: number;
  detail: (DetailFigures & { overQuota: boolean }) | undefined;
  /** A few offending keys of each kind, for the failure message. */
  samples: Record<string, string[]>;
}

const SAMPLE = 5;

function excess(counts: Iterable<number>): number {
  let n = 0;
  for (const c of counts) {
    n += Math.max(0, c - 1);
  }
  return n;
}

export function checkDelivery(
  sent: Sent,
  db: DbSnapshot,
  detail?: DetailFigures,
  opts: { reconcile?: boolean } = {},
): CheckReport {
  const samples: Record<string, string[]> = {};
  const note = (kind: string, key: string) => {
    const list = (samples[kind] ??= []);
    if (list.length < SAMPLE) {
      list.push(key);
    }
  };
  let lost = 0;
  let recovered = 0;
  for (const [key, r] of sent.receipts) {
    const stored = db.receipts.has(key);
    if (r.acked && !stored) {
      lost++;
      note("lost", key);
    } else if (!r.acked && stored) {
      recovered++;
    }
  }
  let unexpected = 0;
  for (const key of db.receipts.keys()) {
    if (!sent.receipts.has(key)) {
      unexpected++;
      note("unexpected", key);
    }
  }
  const callRows = [...db.calls.values()].map((c) => c.rows);
  const duplicates =
    excess(db.receipts.values()) +
    excess(callRows) +
    excess(db.events.values()) +
    excess(db.recordings.values());
  if (duplicates > 0) {
    for (const [key, n] of [...db.receipts, ...db.events, ...db.recordings]) {
      if (n > 1) {
        note("duplicate", key);
      }
    }
  }
  const missing = (expected: Set<string>, present: Map<string, unknown>, kind: string) => {
    let n = 0;
    for (const key of expected) {
      if (!present.has(key)) {
        n++;
        note(kind, key);
      }
    }
    return n;
  };
  let unexpectedCalls = 0;
  for (const id of db.calls.keys()) {
    if (!sent.calls.has(id)) {
      unexpectedCalls++;
      note("unexpectedCall", id);
    }
  }
  let notReconciled = 0;
  if (opts.reconcile !== false) {
    for (const id of sent.outboundCalls) {
      const status = db.calls.get(id)?.status;
      if (status !== undefined && status !== "reconciled") {
        notReconciled++;
        note("notReconciled", `${id} (${status})`);
      }
    }
  }
  let poisonMissing = 0;
  for (const marker of sent.poison) {
    if (!db.rejectedRaw.some((raw) => raw.includes(marker))) {
      poisonMissing++;
      note("poisonMissing", marker);
    }
  }
  return {
    delivered: sent.pushedReceiptAttempts + sent.mnsMessages,
    distinctExpected: sent.receipts.size,
    rows: db.receipts.size,
    lost,
    recovered,
    unexpected,
    duplicates,
    unprocessed: db.unprocessed,
    missingCalls: missing(sent.calls, db.calls, "missingCall"),
    unexpectedCalls,
    notReconciled,
    missingEvents: missing(sent.events, db.events, "missingEvent"),
    missingRecordings: missing(sent.recordings, db.recordings, "missingRecording"),
    poison: sent.poison.size,
    quarantined: db.rejectedRaw.length,
    poisonMissing,
    detail: detail && { ...detail, overQuota: detail.maxAttemptsPerSecond > detail.quota },
    samples,
  };
}

/** The figures that must all be zero for a fault run to pass. */
export function problems(r: CheckReport): Record<string, number> {
  const all: Record<string, number> = {
    lost: r.lost,
    unexpected: r.unexpected,
    duplicates: r.duplicates,
    unprocessed: r.unprocessed,
    missingCalls: r.missingCalls,
    unexpectedCalls: r.unexpectedCalls,
    notReconciled: r.notReconciled,
    missingEvents: r.missingEvents,
    missingRecordings: r.missingRecordings,
    poisonMissing: r.poisonMissing,
    overQuota: r.detail?.overQuota ? 1 : 0,
  };
  return Object.fromEntries(Object.entries(all).filter(([, n]) => n !== 0));
}

const iso = (d: Date | null): string => (d ? d.toISOString() : "");

export function eventKey(e: {
  callId: string;
  statusCode: string;
  statusTime: Date | null;
  dtmf: string | null;
}): string {
  return `${e.callId}|${e.statusCode}|${iso(e.statusTime)}|${e.dtmf ?? ""}`;
}

export function recordingKey(r: { callId: string; recordFile: string }): string {
  return `${r.callId}|${r.recordFile}`;
}

export function emptySent(): Sent {
  return {
    receipts: new Map(),
    events: new Set(),
    recordings: new Set(),
    calls: new Set(),
    outboundCalls: new Set(),
    poison: new Set(),
    pushedReceiptAttempts: 0,
    mnsMessages: 0,
  };
}

/** Record a valid receipt as sent (not yet acknowledged); returns its dedup key. */
export function expectReceipt(sent: Sent, messageType: string, body: unknown): string {
  const n = normalizeReceipt(messageType, body);
  if (!n.ok) {
    throw new Error(`checker: a receipt meant to be valid is not: ${n.reason}`);
  }
  const r = n.receipt;
  if (!sent.receipts.has(r.dedupKey)) {
    sent.receipts.set(r.dedupKey, { callId: r.callId, acked: false });
  }
  if (r.callId !== null) {
    sent.calls.add(r.callId);
    if (r.direction === "outbound") {
      sent.outboundCalls.add(r.callId);
    }
  }
  if (r.event) {
    sent.events.add(eventKey(r.event));
  }
  if (r.recording) {
    sent.recordings.add(recordingKey(r.recording));
  }
  return r.dedupKey;
}

export async function snapshotDatabase(pool: pg.Pool): Promise<DbSnapshot> {
  const receipts = await pool.query<{ k: string; n: number; open: number }>(
    `select dedup_key as k, count(*)::int as n,
            count(*) filter (where processed_at is null)::int as open
       from receipts group by dedup_key`,
  );
  const calls = await pool.query<{ k: string; n: number; s: string }>(
    "select call_id as k, count(*)::int as n, min(reconcile_status) as s from calls group by call_id",
  );
  const events = await pool.query<{
    call_id: string;
    status_code: string;
    status_time: Date | null;
    dtmf: string | null;
    n: number;
  }>(
    `select call_id, status_code, status_time, dtmf, count(*)::int as n
       from call_events group by call_id, status_code, status_time, dtmf`,
  );
  const recordings = await pool.query<{ k: string; n: number }>(
    `select call_id || '|' || record_file as k, count(*)::int as n
       from recordings group by call_id, record_file`,
  );
  const rejected = await pool.query<{ raw: string }>("select raw from rejected_receipts");
  return {
    receipts: new Map(receipts.rows.map((r) => [r.k, r.n])),
    unprocessed: receipts.rows.reduce((s, r) => s + r.open, 0),
    calls: new Map(calls.rows.map((r) => [r.k, { rows: r.n, status: r.s }])),
    events: new Map(
      events.rows.map((e) => [
        eventKey({
          callId: e.call_id,
          statusCode: e.status_code,
          statusTime: e.status_time,
          dtmf: e.dtmf,
        }),
        e.n,
      ]),
    ),
    recordings: new Map(recordings.rows.map((r) => [r.k, r.n])),
    rejectedRaw: rejected.rows.map((r) => r.raw),
  };
}
