-- Indexes of the call explorer's searches (issue #22; src/store/explorer/, README "Call explorer").
-- Hand-written: drizzle-kit cannot express the operator classes below. Every search is bounded
-- by one of these (test/integration/uiExplain.test.ts shows the plans):
--   newest first, and a Beijing day range: the call's time as report_calls defines its day
--     (start_time, else end_time, originate_time, ring_time, the last in-call event, created_at);
--   out_id prefix: LIKE 'prefix%' needs text_pattern_ops (the database collation is not C);
--   caller/callee, a full number or its last digits: a suffix is a prefix of the reversed number;
--   rejected receipts of one reason, newest first.
CREATE INDEX "calls_explorer_time_idx" ON "calls" USING btree
  ((coalesce("start_time", "end_time", "originate_time", "ring_time", "last_event_time", "created_at")) DESC, "call_id" DESC);
--> statement-breakpoint
CREATE INDEX "calls_out_id_prefix_idx" ON "calls" USING btree ("out_id" text_pattern_ops);
--> statement-breakpoint
CREATE INDEX "calls_callee_suffix_idx" ON "calls" USING btree (reverse("callee") text_pattern_ops);
--> statement-breakpoint
CREATE INDEX "calls_caller_suffix_idx" ON "calls" USING btree (reverse("caller") text_pattern_ops);
--> statement-breakpoint
CREATE INDEX "rejected_receipts_reason_idx" ON "rejected_receipts" USING btree ("reason", "received_at" DESC, "id" DESC);
