/**
 * dialogue_turns writes. Two statements per callback, both idempotent:
 *
 *   claim   before answering: insert the turn (and the `calls` row, outbound, when missing);
 *           a platform retry collapses on (call_id, turn_time, role), bumps `deliveries` and
 *           returns the answer already given, so a retry gets the same answer without asking
 *           the webhook again;
 *   record  after deciding: store what was answered, by whom and why. An upsert, so it also
 *           stores the whole turn when the claim failed; the first answer recorded wins.
 */
import type pg from "pg";

import type { AnswerData } from "./answer.js";
import type { SmartCallTurn } from "./callback.js";

export type AnsweredBy = "webhook" | "rules" | "default";

export interface ClaimResult {
  /** false: this turn was stored before (a platform retry). */
  inserted: boolean;
  /** The answer given to an earlier delivery, if it was recorded. */
  answer: AnswerData | null;
  answeredBy: AnsweredBy | null;
}

export interface AnswerRecord {
  answer: AnswerData;
  answeredBy: AnsweredBy;
  reason: string;
  webhookOutcome: string | null;
  answeredAt: Date;
  latencyMs: number;
}

const TURN_COLUMNS = `call_id, turn_time, role, content_type, identity, words, dtmf,
  begin_offset_ms, end_offset_ms, dynamic_id, content, body`;

function turnValues(turn: SmartCallTurn): unknown[] {
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
const ENSURE_CALL = `with new_call as (
  insert into calls (call_id, direction) values ($1, 'outbound') on conflict (call_id) do nothing
)`;

export async function claimTurn(db: pg.Pool, turn: SmartCallTurn): Promise<ClaimResult> {
  const { rows } = await db.query<{
    inserted: boolean;
    answer: AnswerData | null;
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
  turn: SmartCallTurn,
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
