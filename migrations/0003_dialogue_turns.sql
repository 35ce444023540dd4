CREATE TABLE "dialogue_turns" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"call_id" text NOT NULL,
	"turn_time" timestamp with time zone NOT NULL,
	"role" text,
	"content_type" text NOT NULL,
	"identity" text,
	"words" text,
	"dtmf" text,
	"begin_offset_ms" integer,
	"end_offset_ms" integer,
	"dynamic_id" text,
	"content" jsonb NOT NULL,
	"body" jsonb NOT NULL,
	"deliveries" integer DEFAULT 1 NOT NULL,
	"answered_action" text,
	"answered_action_code" text,
	"answer" jsonb,
	"answered_by" text,
	"answered_reason" text,
	"webhook_outcome" text,
	"answered_at" timestamp with time zone,
	"latency_ms" integer,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dialogue_turns_natural_key" UNIQUE NULLS NOT DISTINCT("call_id","turn_time","role"),
	CONSTRAINT "dialogue_turns_answered_by_check" CHECK ("dialogue_turns"."answered_by" is null or "dialogue_turns"."answered_by" in ('webhook', 'rules', 'default'))
);
--> statement-breakpoint
CREATE INDEX "dialogue_turns_received_at_idx" ON "dialogue_turns" USING btree ("received_at");--> statement-breakpoint
-- One row per smart call: its turns in order (turn time, then arrival) as JSON and as text lines
-- "role: words" (a turn without role is labelled by its content_type; a key press reads [1]).
CREATE VIEW "transcripts" AS
SELECT
  t.call_id,
  c.out_id,
  c.caller,
  c.callee,
  count(*)::int AS turns,
  min(t.turn_time) AS first_turn_at,
  max(t.turn_time) AS last_turn_at,
  jsonb_agg(
    jsonb_build_object(
      'turn_time', t.turn_time,
      'role', t.role,
      'content_type', t.content_type,
      'words', t.words,
      'dtmf', t.dtmf,
      'begin_offset_ms', t.begin_offset_ms,
      'end_offset_ms', t.end_offset_ms,
      'action', t.answered_action,
      'action_code', t.answered_action_code,
      'answered_by', t.answered_by,
      'answered_reason', t.answered_reason,
      'latency_ms', t.latency_ms,
      'deliveries', t.deliveries
    )
    ORDER BY t.turn_time, t.id
  ) AS conversation,
  string_agg(
    coalesce(t.role, t.content_type) || ': '
      || coalesce(t.words, '[' || t.dtmf || ']', '(' || t.content_type || ')'),
    E'\n' ORDER BY t.turn_time, t.id
  ) AS text
FROM dialogue_turns t
LEFT JOIN calls c ON c.call_id = t.call_id
GROUP BY t.call_id, c.call_id;
