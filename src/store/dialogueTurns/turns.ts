/**
 * dialogue_turns writes (the smart-call callback, src/smartcall/service.ts). Two statements
 * per callback, both idempotent:
 *
 *   claim   before answering: insert the turn (and the `calls` row, outbound, when missing);
 *           a platform retry collapses on (call_id, turn_time, role), bumps `deliveries` and
 *           returns the answer already given, so a retry gets the same answer without asking
 *           the webhook again;
 *   record  after deciding: store what was answered, by whom and why. An upsert, so it also
 *           stores the whole turn when the claim failed; the first answer recorded wins.
 */
import type pg from "pg";

import { dialogueTurnEvent } from "../../domain/outcomeEvents.js";
import { ensureCallSql } from "../calls/smartCall.js";
import { emitEvents } from "../events/emit.js";
import { inTransaction } from "../transaction.js";
import type { SMART_CALL_ANSWER_SOURCES } from "../schema.js";

export type AnsweredBy = (typeof SMART_CALL_ANSWER_SOURCES)[number];

/** The `data` object answered to a turn (without call_id), as the smart-call service builds it. */
export type StoredAnswer = { action: string; action_code: string } & Record<string, unknown>;

/** One callback turn, as src/smartcall/callback.ts parses it (its SmartCallTurn extends this). */
export interface DialogueTurn {
  callId: string;
  turnTime: Date;
  /** `content.role` (e.g. `B`); null when absent (mute, dtmf, timebreak). */
  role: string | null;
  contentType: string;
  identity: string | null;
  words: string | null;
  /** `content.dtmf_digits`; `noInputTimeout` when nothing was pressed in time. */
  dtmf: string | null;
  beginOffsetMs: number | null;
  endOffsetMs: number | null;
  dynamicId: string | null;
  /** `content` decoded. */
  content: Record<string, unknown>;
  /**
   * The request parameters exactly as received, the push token removed (`content` still a
   * string when it came as one).
   */
  params: Record<string, unknown>;
}

export interface ClaimResult<A extends StoredAnswer = StoredAnswer> {
  /** false: this turn was stored before (a platform retry). */
  inserted: boolean;
  /** The answer given to an earlier delivery, if it was recorded. */
  answer: A | null;
  answeredBy: AnsweredBy | null;
}

export interface AnswerRecord {
  answer: StoredAnswer;
  answeredBy: AnsweredBy;
  reason: string;
  webhookOutcome: string | null;
  answeredAt: Date;
  latencyMs: number;
}

const TURN_COLUMNS = `call_id, turn_time, role, content_type, identity, words, dtmf,
  begin_offset_ms, end_offset_ms, dynamic_id, content, body`;

function turnValues(turn: DialogueTurn): unknown[] {
  return [
    turn.callId,
    turn.turnTime,
    turn.role,
    turn.contentType,
    turn.identity,
    turn.words,
    turn.dtmf,
    turn.beginOffsetMs,
    turn.endOffsetMs,
    turn.dynamicId,
    JSON.stringify(turn.content),
    JSON.stringify(turn.params),
  ];
}

const TURN_PLACEHOLDERS = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb";

// Every turn has its calls row (outbound), so reports can join; one round trip for both.
const ENSURE_CALL = ensureCallSql("$1");

/** `A`: the caller's type of the answers it records (what it reads back is what it stored). */
export async function claimTurn<A extends StoredAnswer = StoredAnswer>(
  db: pg.Pool,
  turn: DialogueTurn,
): Promise<ClaimResult<A>> {
  const { rows } = await db.query<{
    inserted: boolean;
    answer: A | null;
    answered_by: AnsweredBy | null;
  }>({
    name: "smart-call-claim-turn",
    text: `${ENSURE_CALL}
      insert into dialogue_turns as t (${TURN_COLUMNS})
      values (${TURN_PLACEHOLDERS})
      on conflict on constraint dialogue_turns_natural_key
        do update set deliveries = t.deliveries + 1
      returning (xmax = 0) as inserted, t.answer, t.answered_by`,
    values: turnValues(turn),
  });
  const row = rows[0];
  if (!row) {
    throw new Error("claim returned no row");
  }
  return { inserted: row.inserted, answer: row.answer, answeredBy: row.answered_by };
}

/** Stores the answer; true when it was stored, false when an earlier answer was already there. */
export async function recordAnswer(
  db: pg.Pool,
  turn: DialogueTurn,
  rec: AnswerRecord,
  /** Also write a dialogue.turn outcome event, in the same transaction (a webhook opted in). */
  emitTurn = false,
): Promise<boolean> {
  if (!emitTurn) {
    return storeAnswer(db, turn, rec);
  }
  return inTransaction(db, async (client) => {
    const stored = await storeAnswer(client, turn, rec);
    if (stored) {
      const { rows } = await client.query<{ out_id: string | null }>(
        "select out_id from calls where call_id = $1",
        [turn.callId],
      );
      await emitEvents(client, [
        dialogueTurnEvent({
          callId: turn.callId,
          outId: rows[0]?.out_id ?? null,
          turnTime: turn.turnTime,
          role: turn.role,
          contentType: turn.contentType,
          words: turn.words,
          dtmf: turn.dtmf,
          answeredAction: rec.answer.action,
          answeredBy: rec.answeredBy,
        }),
      ]);
    }
    return stored;
  });
}

async function storeAnswer(
  db: pg.Pool | pg.PoolClient,
  turn: DialogueTurn,
  rec: AnswerRecord,
): Promise<boolean> {
  const res = await db.query({
    name: "smart-call-record-answer",
    text: `${ENSURE_CALL}
      insert into dialogue_turns as t (${TURN_COLUMNS},
        answered_action, answered_action_code, answer, answered_by, answered_reason,
        webhook_outcome, answered_at, latency_ms)
      values (${TURN_PLACEHOLDERS}, $13, $14, $15::jsonb, $16, $17, $18, $19, $20)
      on conflict on constraint dialogue_turns_natural_key do update set
        answered_action = excluded.answered_action,
        answered_action_code = excluded.answered_action_code,
        answer = excluded.answer,
        answered_by = excluded.answered_by,
        answered_reason = excluded.answered_reason,
        webhook_outcome = excluded.webhook_outcome,
        answered_at = excluded.answered_at,
        latency_ms = excluded.latency_ms
      where t.answered_at is null`,
    values: [
      ...turnValues(turn),
      rec.answer.action,
      rec.answer.action_code === "" ? null : rec.answer.action_code,
      JSON.stringify(rec.answer),
      rec.answeredBy,
      rec.reason,
      rec.webhookOutcome,
      rec.answeredAt,
      Math.round(rec.latencyMs),
    ],
  });
  return (res.rowCount ?? 0) > 0;
}
