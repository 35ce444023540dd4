-- Report dimensions and telephony figures (README "Reports"). Every report reads the views and
-- functions below, so psql gives the same numbers. Over 0002_report_views.sql this adds:
--   result   = the call's result code: its CDR status_code; for an inbound call (biz_id, no CDR)
--              derived from its VoiceCallReport events: 200102 被叫接听 (or smart_status_code
--              ANSWERED) means answered, else the last non-ANSWERED smart_status_code of its
--              events (e.g. NO_ANSWER); NULL = no result yet;
--   answered = the CDR code is an answer (status_codes.answered) or, inbound, an event says so;
--   talk     = duration_seconds of answered calls; inbound without a CDR: from the 200102 event
--              to the 200100 event;
--   product  = vr_call_product(): inbound | robot | by ProdId | smart | ivr | notification (the
--              rule is spelled out on the function; src/domain/callDimensions.ts is its twin);
--   outcome  = vr_call_outcome(): the carrier meaning of the result (空号, 停机, 关机, 忙, 无人接听,
--              拒接, …; call_outcomes), the smart status code where the carrier code is generic;
--   seized   = a result other than a platform refusal before dialling (outcome blocked): the
--              denominator of the answer-seizure ratio asr = answered / seized.
-- Reports take (from_day, to_day, direction, product); NULL = all. Views without _between are
-- the functions over everything.

CREATE TABLE IF NOT EXISTS "call_outcomes" (
	"outcome" text PRIMARY KEY NOT NULL,
	"meaning" text NOT NULL,
	"ord" int NOT NULL,
	"number_state" text CHECK ("number_state" IN ('dead', 'unreachable'))
);
--> statement-breakpoint
-- OUTCOMES, OUTCOME_MEANINGS, NUMBER_STATES of src/domain/callDimensions.ts
-- (test/unit/report/dimensionsMigration.test.ts keeps them in step).
INSERT INTO "call_outcomes" ("outcome", "meaning", "ord", "number_state") VALUES
  ('answered', '接通', 1, NULL),
  ('busy', '忙', 2, NULL),
  ('no_answer', '无人接听', 3, NULL),
  ('rejected', '拒接', 4, NULL),
  ('vacant', '空号', 5, 'dead'),
  ('suspended', '停机', 6, 'dead'),
  ('powered_off', '关机', 7, 'unreachable'),
  ('unreachable', '无法接通', 8, 'unreachable'),
  ('restricted', '被叫受限', 9, NULL),
  ('blocked', '平台限呼', 10, NULL),
  ('failed', '呼叫失败', 11, NULL),
  ('other', '其他', 12, NULL)
ON CONFLICT ("outcome") DO UPDATE SET "meaning" = excluded."meaning", "ord" = excluded."ord",
	"number_state" = excluded."number_state";
--> statement-breakpoint
ALTER TABLE "status_codes" ADD COLUMN IF NOT EXISTS "outcome" text;
--> statement-breakpoint
-- CARRIER_OUTCOMES of src/domain/callDimensions.ts.
UPDATE "status_codes" sc SET "outcome" = v.outcome FROM (VALUES
  ('400', 'failed'),
  ('476', 'vacant'),
  ('482', 'vacant'),
  ('500', 'failed'),
  ('9996', 'failed'),
  ('200000', 'other'),
  ('200001', 'other'),
  ('200002', 'busy'),
  ('200003', 'no_answer'),
  ('200004', 'vacant'),
  ('200005', 'unreachable'),
  ('200006', 'other'),
  ('200007', 'unreachable'),
  ('200008', 'other'),
  ('200010', 'powered_off'),
  ('200011', 'suspended'),
  ('200100', 'other'),
  ('200101', 'other'),
  ('200102', 'other'),
  ('200103', 'other'),
  ('200104', 'blocked'),
  ('200105', 'restricted'),
  ('200111', 'rejected'),
  ('200112', 'busy'),
  ('200113', 'no_answer'),
  ('200116', 'vacant'),
  ('200117', 'blocked'),
  ('200118', 'blocked'),
  ('200119', 'blocked'),
  ('200120', 'unreachable'),
  ('200121', 'blocked'),
  ('200201', 'other'),
  ('300000', 'other'),
  ('999999', 'failed')
) AS v(code, outcome) WHERE sc.code = v.code;
--> statement-breakpoint
-- SMART_STATUS_CODES (src/domain/statusCodes.ts) with SMART_OUTCOMES (callDimensions.ts).
CREATE TABLE IF NOT EXISTS "smart_status_codes" (
	"code" text PRIMARY KEY NOT NULL,
	"meaning" text NOT NULL,
	"outcome" text NOT NULL
);
--> statement-breakpoint
INSERT INTO "smart_status_codes" ("code", "meaning", "outcome") VALUES
  ('ANSWERED', '用户接通', 'answered'),
  ('CANCEL', '主叫取消', 'other'),
  ('CALL_REJECTED', '拒接', 'rejected'),
  ('CALL_FORWARDING', '呼转/接听助理', 'other'),
  ('INCOMING_CALL_BARRED', '限制呼入', 'restricted'),
  ('INVALID_NUMBER', '空号', 'vacant'),
  ('NO_ANSWER', '无应答', 'no_answer'),
  ('NO_USER_RESPONDING', '不在服务区', 'unreachable'),
  ('NETWORK_BUSY', '网络忙', 'failed'),
  ('OPERATOR_BLOCK', '运营商拦截', 'blocked'),
  ('POWERED_OFF', '关机', 'powered_off'),
  ('SUSPEND', '停机', 'suspended'),
  ('USER_BUSY', '被叫忙', 'busy'),
  ('UNAVAILABLE', '暂时无法接通', 'unreachable'),
  ('OTHER', '其他', 'other'),
  ('OTHERS', '其他', 'other')
ON CONFLICT ("code") DO UPDATE SET "meaning" = excluded."meaning", "outcome" = excluded."outcome";
--> statement-breakpoint
-- The product of a call, first rule that applies:
--   1. inbound direction (a biz_id call)                 -> inbound
--   2. out_id ALICOM_SMART_SAAS^<task>^...                -> robot (a robot task's call)
--   3. the ProdId its call detail was found under         -> 11000000300006 notification,
--      (calls.prod_id; authoritative when known)            11010000138001 verification,
--                                                           11000000300005 ivr, 11030000180001 smart
--   4. a SmartCall-only trace (smart_trace)               -> smart
--   5. key presses (dtmf)                                 -> ivr
--   6. otherwise                                          -> notification
-- smart_status_code is no clue (newer receipts carry it for every product). A verification-code
-- call looks like a notification in its receipts; it is told apart only once reconciled.
CREATE OR REPLACE FUNCTION "vr_call_product"(direction text, out_id text, prod_id text,
                                             smart_trace boolean, dtmf text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
           WHEN direction = 'inbound' THEN 'inbound'
           WHEN starts_with(out_id, 'ALICOM_SMART_SAAS^') THEN 'robot'
           WHEN prod_id = '11000000300006' THEN 'notification'
           WHEN prod_id = '11010000138001' THEN 'verification'
           WHEN prod_id = '11000000300005' THEN 'ivr'
           WHEN prod_id = '11030000180001' THEN 'smart'
           WHEN smart_trace THEN 'smart'
           WHEN dtmf <> '' THEN 'ivr'
           ELSE 'notification'
         END
$$;
--> statement-breakpoint
-- The outcome of a result: answered; else the carrier code's outcome, unless that is only the
-- generic unreachable/other (or unknown) and the smart status code says more (200005 with
-- SUSPEND is 停机); NULL without a result. vr_outcome_rule is the rule over looked-up outcomes
-- (a plain expression, so PostgreSQL inlines it in the views); vr_call_outcome looks them up.
CREATE OR REPLACE FUNCTION "vr_outcome_rule"(answered boolean, has_result boolean,
                                             carrier text, smart text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
           WHEN answered THEN 'answered'
           WHEN NOT has_result THEN NULL
           WHEN (carrier IS NULL OR carrier IN ('unreachable', 'other'))
                AND smart IS NOT NULL AND smart NOT IN ('answered', 'other') THEN smart
           WHEN carrier IS NULL OR carrier = 'answered' THEN 'other'
           ELSE carrier
         END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "vr_call_outcome"(answered boolean, result_code text, smart_code text)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT vr_outcome_rule(answered, result_code IS NOT NULL,
           coalesce((SELECT sc.outcome FROM status_codes sc WHERE sc.code = result_code),
                    (SELECT ss.outcome FROM smart_status_codes ss WHERE ss.code = result_code)),
           (SELECT ss.outcome FROM smart_status_codes ss WHERE ss.code = smart_code))
$$;
--> statement-breakpoint
-- Columns 1-18 as in 0002 (answered and talk_seconds now count inbound calls); new ones after.
CREATE OR REPLACE VIEW "report_calls" AS
SELECT c.call_id, c.direction, c.out_id, c.caller, c.callee, c.status_code, c.status_msg,
       c.smart_status_code, c.start_time, c.end_time, c.duration_seconds, c.dtmf,
       c.reconcile_status, c.discrepancies,
       (coalesce(c.start_time, c.end_time, c.originate_time, c.ring_time, c.last_event_time,
                 c.created_at) AT TIME ZONE 'Asia/Shanghai')::date AS day,
       d.answered,
       CASE WHEN d.answered THEN coalesce(c.duration_seconds, ev.talk_seconds) END AS talk_seconds,
       CASE WHEN starts_with(c.out_id, 'ALICOM_SMART_SAAS^')
            THEN split_part(c.out_id, '^', 2) END AS robot_task,
       vr_call_product(c.direction, c.out_id, c.prod_id,
         c.voice_type IN ('asr', 'smart_transfer') OR c.early_media_code IS NOT NULL
         OR EXISTS (SELECT 1 FROM dialogue_turns t WHERE t.call_id = c.call_id)
         OR EXISTS (SELECT 1 FROM recordings rec
                     WHERE rec.call_id = c.call_id AND rec.record_begin_time IS NOT NULL)
         OR EXISTS (SELECT 1 FROM receipts rc
                     WHERE rc.call_id = c.call_id AND rc.message_type = 'VoiceReport'
                       AND (coalesce(rc.body->>'dialog_id', '') <> ''
                            OR coalesce(rc.body->>'parallel_leg_hangup_cause', '') <> '')),
         c.dtmf) AS product,
       d.result_code,
       CASE WHEN d.result_code IS NULL THEN NULL
            WHEN c.status_code IS NULL AND d.answered THEN '被叫接听'
            ELSE coalesce(rc.meaning, rs.meaning, c.status_msg) END AS result_meaning,
       o.outcome,
       d.result_code IS NOT NULL AND o.outcome <> 'blocked' AS seized,
       extract(hour FROM coalesce(c.start_time, c.end_time, c.originate_time, c.ring_time,
                                  c.last_event_time, c.created_at) AT TIME ZONE 'Asia/Shanghai')::int
         AS hour
  FROM calls c
  LEFT JOIN status_codes sc ON sc.code = c.status_code
  LEFT JOIN LATERAL (
    SELECT bool_or(e.status_code = '200102' OR e.smart_status_code = 'ANSWERED') AS answered,
           greatest(0, extract(epoch FROM
             max(e.status_time) FILTER (WHERE e.status_code = '200100')
             - min(e.status_time) FILTER (WHERE e.status_code = '200102')))::int AS talk_seconds,
           (array_agg(e.smart_status_code ORDER BY e.status_time DESC NULLS LAST, e.id DESC)
              FILTER (WHERE e.smart_status_code IS NOT NULL AND e.smart_status_code <> 'ANSWERED'))[1]
             AS last_smart
      FROM call_events e
     WHERE c.direction = 'inbound' AND e.call_id = c.call_id
  ) ev ON true
 CROSS JOIN LATERAL (
    SELECT coalesce(sc.answered, false) OR coalesce(ev.answered, false) AS answered,
           coalesce(c.status_code,
                    CASE WHEN ev.answered THEN '200102' ELSE ev.last_smart END) AS result_code
 ) d
  LEFT JOIN status_codes rc ON rc.code = d.result_code
  LEFT JOIN smart_status_codes rs ON rs.code = d.result_code
  LEFT JOIN smart_status_codes ss ON ss.code = coalesce(c.smart_status_code, ev.last_smart)
 CROSS JOIN LATERAL (
    SELECT vr_outcome_rule(d.answered, d.result_code IS NOT NULL,
                           coalesce(rc.outcome, rs.outcome), ss.outcome) AS outcome
 ) o;
--> statement-breakpoint
DROP VIEW IF EXISTS "report_daily";
--> statement-breakpoint
DROP VIEW IF EXISTS "report_status";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "report_status_between"(date, date);
--> statement-breakpoint
DROP VIEW IF EXISTS "report_reconcile";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "report_reconcile_between"(date, date);
--> statement-breakpoint
DROP VIEW IF EXISTS "report_dtmf";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "report_dtmf_between"(date, date);
--> statement-breakpoint
-- The calls of a report: in the day range, of the direction and product (NULL = any).
CREATE OR REPLACE FUNCTION "report_calls_between"(from_day date, to_day date,
                                                  dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS SETOF report_calls LANGUAGE sql STABLE AS $$
  SELECT * FROM report_calls r
   WHERE (from_day IS NULL OR r.day >= from_day) AND (to_day IS NULL OR r.day <= to_day)
     AND (dir IS NULL OR r.direction = dir) AND (prod IS NULL OR r.product = prod)
$$;
--> statement-breakpoint
-- Per Beijing day: calls, answered, answer rate (of all calls), total and average talk of
-- answered calls (ACD), seizures and the answer-seizure ratio, calls per busy hour (hours with
-- at least one call) and the busiest hour's calls.
CREATE OR REPLACE FUNCTION "report_daily_between"(from_day date, to_day date,
                                                  dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS TABLE (day date, calls int, answered int, answer_rate numeric, total_talk_seconds bigint,
               avg_talk_seconds numeric, seized int, asr numeric, calls_per_hour numeric,
               peak_hour_calls int)
LANGUAGE sql STABLE AS $$
  -- Only the columns used: product's EXISTS probes run only when --product filters on it.
  WITH r AS MATERIALIZED (
    SELECT c.day, c.hour, c.answered, c.talk_seconds, c.seized
      FROM report_calls_between(from_day, to_day, dir, prod) c),
  hours AS (SELECT r.day, r.hour, count(*) AS n FROM r GROUP BY r.day, r.hour),
  per_day AS (SELECT h.day, count(*) AS busy_hours, max(h.n) AS peak FROM hours h GROUP BY h.day)
  SELECT r.day,
         count(*)::int,
         (count(*) FILTER (WHERE r.answered))::int,
         round((count(*) FILTER (WHERE r.answered))::numeric / count(*), 4),
         coalesce(sum(r.talk_seconds), 0)::bigint,
         round(avg(r.talk_seconds), 1),
         (count(*) FILTER (WHERE r.seized))::int,
         round((count(*) FILTER (WHERE r.answered AND r.seized))::numeric
               / nullif(count(*) FILTER (WHERE r.seized), 0), 4),
         round(count(*)::numeric / max(p.busy_hours), 1),
         max(p.peak)::int
    FROM r JOIN per_day p ON p.day = r.day
   GROUP BY r.day
   ORDER BY r.day
$$;
--> statement-breakpoint
CREATE VIEW "report_daily" AS SELECT * FROM report_daily_between(NULL, NULL);
--> statement-breakpoint
-- Per Beijing day and hour (0-23): calls, answered, answer rate, asr, average talk.
CREATE OR REPLACE FUNCTION "report_hourly_between"(from_day date, to_day date,
                                                   dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS TABLE (day date, hour int, calls int, answered int, answer_rate numeric, asr numeric,
               avg_talk_seconds numeric)
LANGUAGE sql STABLE AS $$
  SELECT r.day, r.hour,
         count(*)::int,
         (count(*) FILTER (WHERE r.answered))::int,
         round((count(*) FILTER (WHERE r.answered))::numeric / count(*), 4),
         round((count(*) FILTER (WHERE r.answered AND r.seized))::numeric
               / nullif(count(*) FILTER (WHERE r.seized), 0), 4),
         round(avg(r.talk_seconds), 1)
    FROM report_calls_between(from_day, to_day, dir, prod) r
   GROUP BY r.day, r.hour
   ORDER BY r.day, r.hour
$$;
--> statement-breakpoint
CREATE VIEW "report_hourly" AS SELECT * FROM report_hourly_between(NULL, NULL);
--> statement-breakpoint
-- Per day, direction and product: the daily figures split by the two dimensions (for psql).
CREATE VIEW "report_daily_dimensions" AS
SELECT r.day, r.direction, r.product,
       count(*)::int AS calls,
       (count(*) FILTER (WHERE r.answered))::int AS answered,
       round((count(*) FILTER (WHERE r.answered))::numeric / count(*), 4) AS answer_rate,
       round((count(*) FILTER (WHERE r.answered AND r.seized))::numeric
             / nullif(count(*) FILTER (WHERE r.seized), 0), 4) AS asr,
       round(avg(r.talk_seconds), 1) AS avg_talk_seconds
  FROM report_calls r
 GROUP BY r.day, r.direction, r.product
 ORDER BY r.day, r.direction, r.product;
--> statement-breakpoint
-- Calls per result code (an inbound call's result comes from its events), with its meaning.
CREATE OR REPLACE FUNCTION "report_status_between"(from_day date, to_day date,
                                                   dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS TABLE (status_code text, meaning text, calls int, share numeric)
LANGUAGE sql STABLE AS $$
  SELECT r.result_code,
         coalesce(max(r.result_meaning),
                  CASE WHEN r.result_code IS NULL THEN '(no call result yet)' END),
         count(*)::int,
         round(count(*)::numeric / sum(count(*)) OVER (), 4)
    FROM report_calls_between(from_day, to_day, dir, prod) r
   GROUP BY r.result_code
   ORDER BY count(*) DESC, r.result_code COLLATE "C" NULLS LAST
$$;
--> statement-breakpoint
CREATE VIEW "report_status" AS SELECT * FROM report_status_between(NULL, NULL);
--> statement-breakpoint
-- Calls per outcome (carrier meaning), every outcome listed, then calls without a result.
CREATE OR REPLACE FUNCTION "report_outcomes_between"(from_day date, to_day date,
                                                     dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS TABLE (outcome text, meaning text, calls int, share numeric)
LANGUAGE sql STABLE AS $$
  WITH r AS MATERIALIZED (SELECT r.outcome FROM report_calls_between(from_day, to_day, dir, prod) r),
  total AS (SELECT nullif(count(*), 0) AS n FROM r)
  SELECT x.outcome, x.meaning, x.calls, x.share FROM (
    SELECT o.ord, o.outcome, o.meaning, count(r.outcome)::int AS calls,
           round(count(r.outcome)::numeric / max(total.n), 4) AS share
      FROM call_outcomes o CROSS JOIN total LEFT JOIN r ON r.outcome = o.outcome
     GROUP BY o.ord, o.outcome, o.meaning
    UNION ALL
    SELECT 99, NULL, '(no call result yet)', count(*)::int, round(count(*)::numeric / max(total.n), 4)
      FROM r CROSS JOIN total WHERE r.outcome IS NULL
    HAVING count(*) > 0
  ) x
  ORDER BY x.calls DESC, x.ord
$$;
--> statement-breakpoint
CREATE VIEW "report_outcomes" AS SELECT * FROM report_outcomes_between(NULL, NULL);
--> statement-breakpoint
-- Callees to take off call lists: outbound callees whose latest result in the range says the
-- number is dead (空号, 停机) or unreachable (关机, 无法接通), with how often they were tried.
CREATE OR REPLACE FUNCTION "report_numbers_between"(from_day date, to_day date,
                                                    prod text DEFAULT NULL)
RETURNS TABLE (callee text, state text, outcome text, meaning text, calls int,
               dead_or_unreachable int, last_call text, last_status_code text)
LANGUAGE sql STABLE AS $$
  WITH r AS MATERIALIZED (
    SELECT r.callee, r.outcome, r.result_code,
           coalesce(r.start_time, r.end_time, c.originate_time, c.last_event_time, c.created_at) AS t,
           o.number_state
      FROM report_calls_between(from_day, to_day, 'outbound', prod) r
      JOIN calls c ON c.call_id = r.call_id
      LEFT JOIN call_outcomes o ON o.outcome = r.outcome
     WHERE r.callee IS NOT NULL AND r.callee <> '' AND r.outcome IS NOT NULL
  ), latest AS (
    SELECT DISTINCT ON (r.callee) r.* FROM r ORDER BY r.callee, r.t DESC
  ), counts AS (
    SELECT r.callee, count(*)::int AS calls,
           (count(*) FILTER (WHERE r.number_state IS NOT NULL))::int AS bad
      FROM r GROUP BY r.callee
  )
  SELECT l.callee, l.number_state, l.outcome, o.meaning, k.calls, k.bad,
         to_char(l.t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
         l.result_code
    FROM latest l
    JOIN counts k ON k.callee = l.callee
    JOIN call_outcomes o ON o.outcome = l.outcome
   WHERE l.number_state IS NOT NULL
   ORDER BY l.number_state, o.ord, l.callee COLLATE "C"
$$;
--> statement-breakpoint
CREATE VIEW "report_numbers" AS SELECT * FROM report_numbers_between(NULL, NULL);
--> statement-breakpoint
-- As in 0002, over the calls of the direction and product.
CREATE OR REPLACE FUNCTION "report_reconcile_between"(from_day date, to_day date,
                                                      dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS TABLE (kind text, name text, calls int)
LANGUAGE sql STABLE AS $$
  WITH r AS MATERIALIZED (
    SELECT r.call_id, r.reconcile_status, r.discrepancies
      FROM report_calls_between(from_day, to_day, dir, prod) r
  ), rows AS (
    SELECT 1 AS part, s.ord, 'reconcile_status'::text AS kind, s.status AS name,
           count(r.call_id)::int AS calls
      FROM (VALUES (1, 'pending'), (2, 'reconciled'), (3, 'not_found'), (4, 'skipped'))
             AS s(ord, status)
      LEFT JOIN r ON r.reconcile_status = s.status
     GROUP BY s.ord, s.status
    UNION ALL
    SELECT 2, 0, 'discrepancy', k.field, count(*)::int
      FROM r
     CROSS JOIN LATERAL jsonb_object_keys(
             CASE WHEN jsonb_typeof(r.discrepancies) = 'object' THEN r.discrepancies
                  ELSE '{}'::jsonb END) AS k(field)
     GROUP BY k.field
  )
  SELECT kind, name, calls FROM rows ORDER BY part, ord, calls DESC, name COLLATE "C"
$$;
--> statement-breakpoint
CREATE VIEW "report_reconcile" AS SELECT * FROM report_reconcile_between(NULL, NULL);
--> statement-breakpoint
-- As in 0002, over the calls of the direction and product.
CREATE OR REPLACE FUNCTION "report_dtmf_between"(from_day date, to_day date,
                                                 dir text DEFAULT NULL, prod text DEFAULT NULL)
RETURNS TABLE (out_id_prefix text, key text, presses int, calls int)
LANGUAGE sql STABLE AS $$
  SELECT p.prefix, k.key, count(*)::int, count(DISTINCT p.call_id)::int
    FROM (
      SELECT e.call_id, e.dtmf,
             CASE WHEN coalesce(e.out_id, c.out_id, '') = '' THEN '(none)'
                  ELSE coalesce(nullif(regexp_replace(coalesce(e.out_id, c.out_id), '[0-9]+$', ''), ''),
                                '(digits)') END AS prefix
        FROM call_events e
        LEFT JOIN calls c ON c.call_id = e.call_id
       WHERE e.status_code = '300000' AND e.dtmf IS NOT NULL AND e.dtmf <> ''
         AND (from_day IS NULL
              OR (coalesce(e.status_time, e.received_at) AT TIME ZONE 'Asia/Shanghai')::date >= from_day)
         AND (to_day IS NULL
              OR (coalesce(e.status_time, e.received_at) AT TIME ZONE 'Asia/Shanghai')::date <= to_day)
         AND ((dir IS NULL AND prod IS NULL)
              OR EXISTS (SELECT 1 FROM report_calls r WHERE r.call_id = e.call_id
                            AND (dir IS NULL OR r.direction = dir)
                            AND (prod IS NULL OR r.product = prod)))
    ) p
   CROSS JOIN LATERAL regexp_split_to_table(p.dtmf, '') AS k(key)
   GROUP BY p.prefix, k.key
   ORDER BY p.prefix COLLATE "C", k.key COLLATE "C"
$$;
--> statement-breakpoint
CREATE VIEW "report_dtmf" AS SELECT * FROM report_dtmf_between(NULL, NULL);
