-- Report views (CONTRACT §6): `voice-receipts report <name>` reads exactly these, so every report
-- is also available from psql. Definitions, in one place:
--   day      = Beijing calendar day of the call: start_time, else end_time, else originate_time,
--              ring_time, the last in-call event, else when the row was created;
--   answered = status_codes.answered (200000, 200001, 200100: ANSWERED_STATUS_CODES of
--              src/domain/statusCodes.ts);
--   talk     = duration_seconds of answered calls.
-- Reports grouped by something other than the day are set-returning functions
-- report_<name>_between(from_day, to_day) (NULL = unbounded), and the view report_<name> is the
-- function over all days.

-- Status code meanings (reference §6.1/§6.2), the data of src/domain/statusCodes.ts:
-- meaning = statusMeaning(code), event_meaning = CALL_EVENT_CODES[code], answered = isAnswered(code).
-- test/unit/report/statusCodesMigration.test.ts keeps the two in step.
CREATE TABLE IF NOT EXISTS "status_codes" (
	"code" text PRIMARY KEY NOT NULL,
	"meaning" text NOT NULL,
	"event_meaning" text,
	"answered" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
INSERT INTO "status_codes" ("code", "meaning", "event_meaning", "answered") VALUES
  ('400', '网元繁忙', NULL, false),
  ('476', '号码强制回收', NULL, false),
  ('482', '被叫号码不可用', NULL, false),
  ('500', '运营商错误', NULL, false),
  ('9996', '呼叫未建立或者呼叫已结束(apus)', NULL, false),
  ('200000', '用户听完语音', NULL, true),
  ('200001', '用户提前挂机未完整收听', NULL, true),
  ('200002', '用户占线', NULL, false),
  ('200003', '用户收到呼叫但未接听', NULL, false),
  ('200004', '用户号码不合法', NULL, false),
  ('200005', '被叫用户无法接通', NULL, false),
  ('200006', '语音播放失败铃声格式有误', NULL, false),
  ('200007', '用户无法接通(不在服务区)', NULL, false),
  ('200008', '获取按键超时', NULL, false),
  ('200010', '关机', NULL, false),
  ('200011', '停机', NULL, false),
  ('200100', '呼叫结束(双呼)', '呼叫结束', true),
  ('200101', '正在接通主叫', '开始呼叫', false),
  ('200102', '成功接通主叫,正在接通被叫', '被叫接听', false),
  ('200103', '呼叫建立,正在通话', NULL, false),
  ('200104', '主叫号码受限', NULL, false),
  ('200105', '被叫号码受限', NULL, false),
  ('200111', '被叫无法接通(拒绝)', NULL, false),
  ('200112', '被叫占线', NULL, false),
  ('200113', '被叫收到呼叫但未接听', NULL, false),
  ('200116', '被叫号码不合法', NULL, false),
  ('200117', '来电显示号码不合法', NULL, false),
  ('200118', '供应商时间段限呼', NULL, false),
  ('200119', '供应商超频限呼', NULL, false),
  ('200120', '被叫无法接通(不在服务区)', NULL, false),
  ('200121', '呼叫超并发', NULL, false),
  ('300000', 'DTMF按键消息', 'DTMF按键消息', false),
  ('999999', '系统错误', NULL, false),
  ('200201', '被叫响铃', '被叫响铃', false)
ON CONFLICT ("code") DO UPDATE SET "meaning" = excluded."meaning",
	"event_meaning" = excluded."event_meaning", "answered" = excluded."answered";
--> statement-breakpoint
CREATE OR REPLACE VIEW "report_calls" AS
SELECT c.call_id, c.direction, c.out_id, c.caller, c.callee, c.status_code, c.status_msg,
       c.smart_status_code, c.start_time, c.end_time, c.duration_seconds, c.dtmf,
       c.reconcile_status, c.discrepancies,
       (coalesce(c.start_time, c.end_time, c.originate_time, c.ring_time, c.last_event_time,
                 c.created_at) AT TIME ZONE 'Asia/Shanghai')::date AS day,
       coalesce(sc.answered, false) AS answered,
       CASE WHEN sc.answered THEN c.duration_seconds END AS talk_seconds,
       CASE WHEN starts_with(c.out_id, 'ALICOM_SMART_SAAS^')
            THEN split_part(c.out_id, '^', 2) END AS robot_task
  FROM calls c
  LEFT JOIN status_codes sc ON sc.code = c.status_code;
--> statement-breakpoint
CREATE OR REPLACE VIEW "report_daily" AS
SELECT r.day,
       count(*)::int AS calls,
       (count(*) FILTER (WHERE r.answered))::int AS answered,
       round((count(*) FILTER (WHERE r.answered))::numeric / count(*), 4) AS answer_rate,
       coalesce(sum(r.talk_seconds), 0)::bigint AS total_talk_seconds,
       round(avg(r.talk_seconds), 1) AS avg_talk_seconds
  FROM report_calls r
 GROUP BY r.day
 ORDER BY r.day;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "report_status_between"(from_day date, to_day date)
RETURNS TABLE (status_code text, meaning text, calls int, share numeric)
LANGUAGE sql STABLE AS $$
  SELECT r.status_code,
         coalesce(sc.meaning, max(r.status_msg),
                  CASE WHEN r.status_code IS NULL THEN '(no call result yet)' END),
         count(*)::int,
         round(count(*)::numeric / sum(count(*)) OVER (), 4)
    FROM report_calls r
    LEFT JOIN status_codes sc ON sc.code = r.status_code
   WHERE (from_day IS NULL OR r.day >= from_day) AND (to_day IS NULL OR r.day <= to_day)
   GROUP BY r.status_code, sc.meaning
   ORDER BY count(*) DESC, r.status_code COLLATE "C" NULLS LAST
$$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "report_status" AS SELECT * FROM report_status_between(NULL, NULL);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "report_robot_tasks_between"(from_day date, to_day date)
RETURNS TABLE (task_id text, dialled int, answered int, answer_rate numeric,
               total_talk_seconds bigint, avg_talk_seconds numeric, first_day date, last_day date)
LANGUAGE sql STABLE AS $$
  SELECT r.robot_task,
         count(*)::int,
         (count(*) FILTER (WHERE r.answered))::int,
         round((count(*) FILTER (WHERE r.answered))::numeric / count(*), 4),
         coalesce(sum(r.talk_seconds), 0)::bigint,
         round(avg(r.talk_seconds), 1),
         min(r.day),
         max(r.day)
    FROM report_calls r
   WHERE r.robot_task IS NOT NULL
     AND (from_day IS NULL OR r.day >= from_day) AND (to_day IS NULL OR r.day <= to_day)
   GROUP BY r.robot_task
   ORDER BY min(r.day), r.robot_task COLLATE "C"
$$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "report_robot_tasks" AS SELECT * FROM report_robot_tasks_between(NULL, NULL);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "report_reconcile_between"(from_day date, to_day date)
RETURNS TABLE (kind text, name text, calls int)
LANGUAGE sql STABLE AS $$
  WITH r AS MATERIALIZED (
    SELECT r.call_id, r.reconcile_status, r.discrepancies
      FROM report_calls r
     WHERE (from_day IS NULL OR r.day >= from_day) AND (to_day IS NULL OR r.day <= to_day)
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
CREATE OR REPLACE VIEW "report_reconcile" AS SELECT * FROM report_reconcile_between(NULL, NULL);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "report_dtmf_between"(from_day date, to_day date)
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
    ) p
   CROSS JOIN LATERAL regexp_split_to_table(p.dtmf, '') AS k(key)
   GROUP BY p.prefix, k.key
   ORDER BY p.prefix COLLATE "C", k.key COLLATE "C"
$$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "report_dtmf" AS SELECT * FROM report_dtmf_between(NULL, NULL);
--> statement-breakpoint
CREATE OR REPLACE VIEW "report_out_id" AS
SELECT c.out_id, r.day, c.call_id, x.kind, x.time, x.status_code, x.meaning,
       x.smart_status_code, x.dtmf, x.duration_seconds, x.reconcile_status, x.callee, x.record_file
  FROM calls c
  JOIN report_calls r ON r.call_id = c.call_id
 CROSS JOIN LATERAL (
    SELECT 'call'::text AS kind,
           to_char(coalesce(c.originate_time, c.ring_time, c.start_time, c.end_time,
                            c.last_event_time, c.created_at) AT TIME ZONE 'Asia/Shanghai',
                   'YYYY-MM-DD HH24:MI:SS') AS time,
           c.status_code,
           coalesce((SELECT sc.meaning FROM status_codes sc WHERE sc.code = c.status_code),
                    c.status_msg) AS meaning,
           c.smart_status_code, c.dtmf, c.duration_seconds, c.reconcile_status, c.callee,
           NULL::text AS record_file
    UNION ALL
    SELECT 'event',
           to_char(coalesce(e.status_time, e.received_at) AT TIME ZONE 'Asia/Shanghai',
                   'YYYY-MM-DD HH24:MI:SS'),
           e.status_code,
           (SELECT coalesce(sc.event_meaning, sc.meaning) FROM status_codes sc
             WHERE sc.code = e.status_code),
           e.smart_status_code, e.dtmf, NULL, NULL, NULL, NULL
      FROM call_events e
     WHERE e.call_id = c.call_id
    UNION ALL
    SELECT 'recording',
           to_char(coalesce(rec.record_begin_time, rec.start_time, rec.received_at)
                     AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'),
           rec.status_code,
           (SELECT sc.meaning FROM status_codes sc WHERE sc.code = rec.status_code),
           rec.smart_status_code, NULL, rec.duration_seconds, NULL, NULL, rec.record_file
      FROM recordings rec
     WHERE rec.call_id = c.call_id
 ) x
 WHERE c.out_id IS NOT NULL AND c.out_id <> '';
