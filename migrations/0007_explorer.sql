-- Indexes of the call explorer's searches (issue #22; src/store/explorer/, README "Call explorer").
-- Hand-written: drizzle-kit cannot express the operator classes below. Every search is bounded
-- by one of these (test/integration/uiExplain.test.ts shows the plans):
--   newest first, and a Beijing day range: the call's time as report_calls defines its day
--     (start_time, else end_time, originate_time, ring_time, the last in-call event, created_at);
--   out_id prefix: LIKE 'prefix%' needs text_pattern_ops (the database collation is not C);
--   caller/callee, a full number or its last digits: a suffix is a prefix of the reversed number;
--   status (a status_code, or none yet) and product: rare values must not walk the time index;
--   one day of report_calls (the overview's hours): the report views' day expression, verbatim;
--   rejected receipts of one reason, newest first.
CREATE INDEX "calls_explorer_time_idx" ON "calls" USING btree
  ((coalesce("start_time", "end_time", "originate_time", "ring_time", "last_event_time", "created_at")) DESC, "call_id" DESC);
--> statement-breakpoint
CREATE INDEX "calls_explorer_status_idx" ON "calls" USING btree
  ("status_code", (coalesce("start_time", "end_time", "originate_time", "ring_time", "last_event_time", "created_at")) DESC, "call_id" DESC);
--> statement-breakpoint
-- The product as src/store/explorer/callTime.ts (PRODUCT_SQL) derives it; the text must match.
CREATE INDEX "calls_explorer_product_idx" ON "calls" USING btree
  ((case
  when "direction" = 'inbound' then 'inbound'
  when starts_with("out_id", 'ALICOM_SMART_SAAS^') then 'robot'
  when "prod_id" = '11000000300006' then 'notification'
  when "prod_id" = '11010000138001' then 'verification'
  when "prod_id" = '11000000300005' then 'ivr'
  when "prod_id" = '11030000180001' then 'smart'
end), (coalesce("start_time", "end_time", "originate_time", "ring_time", "last_event_time", "created_at")) DESC, "call_id" DESC);
--> statement-breakpoint
-- report_calls.day (0002_report_views.sql): a day's calls without reading all calls.
CREATE INDEX "calls_report_day_idx" ON "calls" USING btree
  (((coalesce("start_time", "end_time", "originate_time", "ring_time", "last_event_time", "created_at") AT TIME ZONE 'Asia/Shanghai')::date));
--> statement-breakpoint
CREATE INDEX "calls_out_id_prefix_idx" ON "calls" USING btree ("out_id" text_pattern_ops);
--> statement-breakpoint
CREATE INDEX "calls_callee_suffix_idx" ON "calls" USING btree (reverse("callee") text_pattern_ops);
--> statement-breakpoint
CREATE INDEX "calls_caller_suffix_idx" ON "calls" USING btree (reverse("caller") text_pattern_ops);
--> statement-breakpoint
CREATE INDEX "rejected_receipts_reason_idx" ON "rejected_receipts" USING btree ("reason", "received_at" DESC, "id" DESC);
