-- Fewer index entries per calls row written (issue #23, docs/benchmarks.md "Where a persisted
-- receipt's microseconds go"). Every receipt applied writes a new version of its calls row, and
-- none of those updates can be HOT (each changes a column of an index: last_event_time and the
-- report's times are in the explorer's time expression), so every index of calls takes one entry
-- per receipt-driven row version. Measured (bench/persistStatements.ts): with the 14 indexes of
-- 0000..0007 a receipt writes 8.7 calls index entries and 2,711 B of WAL; without these four,
-- 6.2 entries and 2,533 B, and 1.5-2 µs less PostgreSQL CPU per receipt.
--
-- Dropped, because nothing reads through them any more:
--   calls_out_id_idx       equality on out_id (report_out_id, reconcile) is served by
--                          calls_out_id_prefix_idx (0007): text_pattern_ops has the = operator;
--   calls_start_time_idx,  no query filters or sorts on these columns alone: the explorer and
--   calls_end_time_idx,    the reports use the call's time expression (calls_explorer_time_idx,
--   calls_created_at_idx   calls_report_day_idx).
-- The seven explorer indexes of 0007 are kept: each bounds a search (test/integration/ui/
-- explain.test.ts); together they cost 3-4 µs of PostgreSQL CPU and ~410 B of WAL per receipt.
DROP INDEX IF EXISTS "calls_out_id_idx";
--> statement-breakpoint
DROP INDEX IF EXISTS "calls_start_time_idx";
--> statement-breakpoint
DROP INDEX IF EXISTS "calls_end_time_idx";
--> statement-breakpoint
DROP INDEX IF EXISTS "calls_created_at_idx";
