-- Partitions `receipts` and `call_events` by month (issue #13; README "Database"). Hand-written
-- (`drizzle-kit generate --custom`): drizzle-kit cannot express PARTITION BY, and
-- src/store/schema.ts describes the resulting columns, keys and indexes as far as it can.
--
-- Months are Beijing (Asia/Shanghai) calendar months, like the report days: a partition holds
-- [first day 00:00 +08, first day of the next month 00:00 +08).
--   receipts     by receipt_time = event_time (status_time, else end_time/start_time), else when
--                the first delivery arrived;
--   call_events  by status_time (NULL: the default partition).
-- A DEFAULT partition on each means an insert never fails for lack of a month partition.
--
-- A partitioned table's unique indexes must contain the partition key, and a receipt's dedup
-- key does not always cover its time (a VoiceReport is keyed by call_id alone, and two
-- deliveries may disagree on end_time), so dedup is kept exact by an unpartitioned companion,
-- receipt_keys (dedup_key primary key → receipt id and receipt_time), written in the same
-- statement as the receipt. call_events' natural key contains status_time, so it stays a unique
-- constraint on the partitioned table.
--
-- Existing rows are copied with their ids; the id sequences are kept. report_out_id reads
-- call_events, so it is dropped and created again unchanged (the report_*_between functions are
-- bound by name at call time and need nothing).

-- Creates the month partition of `parent` ('receipts' or 'call_events') containing `month`,
-- unless it exists; rows of that month already in the default partition (a receipt timed
-- beyond the months created ahead, an archive of an old month replayed) are moved into it.
-- Returns whether it created the partition. Safe to call from several processes at once.
CREATE FUNCTION "vr_create_month_partition"(parent text, month date)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  m date := date_trunc('month', month)::date;
  part text := format('%s_p%s', parent, to_char(m, 'YYYY_MM'));
  def text := parent || '_default';
  col text := CASE parent WHEN 'receipts' THEN 'receipt_time'
                          WHEN 'call_events' THEN 'status_time' END;
  lo timestamptz := m::timestamp AT TIME ZONE 'Asia/Shanghai';
  hi timestamptz := (m + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai';
  waiting boolean;
BEGIN
  IF col IS NULL THEN
    RAISE EXCEPTION 'vr_create_month_partition: % is not a partitioned table', parent;
  END IF;
  -- One creator at a time (daemons, migrate, prune); the check below is then race-free.
  PERFORM pg_advisory_xact_lock(7403221905118221);
  IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  -- CREATE ... PARTITION OF locks the parent ACCESS EXCLUSIVE anyway; taking it first, before
  -- the default partition, is the order inserts lock them in, so no deadlock with them.
  EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent);
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)', def, col, col)
    INTO waiting USING lo, hi;
  IF waiting THEN
    -- PostgreSQL refuses a new partition while the default holds rows of its range.
    EXECUTE format('CREATE TEMP TABLE vr_moving ON COMMIT DROP AS SELECT * FROM %I WITH NO DATA', def);
    EXECUTE format('WITH d AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *)
                    INSERT INTO vr_moving SELECT * FROM d', def, col, col) USING lo, hi;
  END IF;
  EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, parent, lo, hi);
  IF waiting THEN
    EXECUTE format('INSERT INTO %I SELECT * FROM vr_moving', part);
    DROP TABLE vr_moving;
  END IF;
  RETURN true;
END
$$;
--> statement-breakpoint
DROP VIEW "report_out_id";
--> statement-breakpoint
ALTER TABLE "receipts" RENAME TO "receipts_unpartitioned";
--> statement-breakpoint
ALTER TABLE "receipts_unpartitioned" DROP CONSTRAINT "receipts_pkey",
  DROP CONSTRAINT "receipts_dedup_key_unique", DROP CONSTRAINT "receipts_source_check";
--> statement-breakpoint
DROP INDEX "receipts_unprocessed_idx";
--> statement-breakpoint
DROP INDEX "receipts_call_id_idx";
--> statement-breakpoint
-- The sequence outlives the old table, so ids continue where they were.
ALTER SEQUENCE "receipts_id_seq" OWNED BY NONE;
--> statement-breakpoint
CREATE TABLE "receipts" (
	"id" bigint DEFAULT nextval('receipts_id_seq') NOT NULL,
	"dedup_key" text NOT NULL,
	"message_type" text NOT NULL,
	"source" text NOT NULL,
	"call_id" text,
	"out_id" text,
	"status_code" text,
	"event_time" timestamp with time zone,
	"body" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"error" text,
	"receipt_time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "receipts_pkey" PRIMARY KEY ("id", "receipt_time"),
	CONSTRAINT "receipts_source_check" CHECK ("source" in ('mns', 'http', 'replay'))
) PARTITION BY RANGE ("receipt_time");
--> statement-breakpoint
CREATE INDEX "receipts_unprocessed_idx" ON "receipts" USING btree ("id") WHERE "processed_at" is null;
--> statement-breakpoint
CREATE INDEX "receipts_call_id_idx" ON "receipts" USING btree ("call_id");
--> statement-breakpoint
CREATE TABLE "receipts_default" PARTITION OF "receipts" DEFAULT;
--> statement-breakpoint
CREATE TABLE "receipt_keys" (
	"dedup_key" text PRIMARY KEY NOT NULL,
	"receipt_id" bigint NOT NULL,
	"receipt_time" timestamp with time zone NOT NULL
);
--> statement-breakpoint
-- `TRUNCATE receipts` (tests, an operator starting over) forgets the keys too; otherwise every
-- receipt delivered again would be taken for a duplicate of one that no longer exists.
CREATE FUNCTION "vr_truncate_receipt_keys"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE receipt_keys;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "receipts_truncate_keys" AFTER TRUNCATE ON "receipts"
  FOR EACH STATEMENT EXECUTE FUNCTION "vr_truncate_receipt_keys"();
--> statement-breakpoint
ALTER TABLE "call_events" RENAME TO "call_events_unpartitioned";
--> statement-breakpoint
ALTER TABLE "call_events_unpartitioned" DROP CONSTRAINT "call_events_pkey",
  DROP CONSTRAINT "call_events_natural_key";
--> statement-breakpoint
DROP INDEX "call_events_status_time_idx";
--> statement-breakpoint
DROP INDEX "call_events_out_id_idx";
--> statement-breakpoint
ALTER SEQUENCE "call_events_id_seq" OWNED BY NONE;
--> statement-breakpoint
CREATE TABLE "call_events" (
	"id" bigint DEFAULT nextval('call_events_id_seq') NOT NULL,
	"call_id" text NOT NULL,
	"status_code" text NOT NULL,
	"status_time" timestamp with time zone,
	"dtmf" text,
	"out_id" text,
	"smart_status_code" text,
	"body" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "call_events_natural_key" UNIQUE NULLS NOT DISTINCT("call_id","status_code","status_time","dtmf")
) PARTITION BY RANGE ("status_time");
--> statement-breakpoint
CREATE INDEX "call_events_status_time_idx" ON "call_events" USING btree ("status_time");
--> statement-breakpoint
CREATE INDEX "call_events_out_id_idx" ON "call_events" USING btree ("out_id");
--> statement-breakpoint
CREATE TABLE "call_events_default" PARTITION OF "call_events" DEFAULT;
--> statement-breakpoint
-- A partition for every month of the existing rows (2000 onwards; implausible times stay in the
-- default partition) and for this month and the next two, before the rows are copied in.
SELECT "vr_create_month_partition"(p.parent, p.month)
  FROM (
    SELECT DISTINCT 'receipts' AS parent,
           date_trunc('month', coalesce(event_time, received_at) AT TIME ZONE 'Asia/Shanghai')::date AS month
      FROM receipts_unpartitioned
    UNION
    SELECT DISTINCT 'call_events', date_trunc('month', status_time AT TIME ZONE 'Asia/Shanghai')::date
      FROM call_events_unpartitioned WHERE status_time IS NOT NULL
    UNION
    SELECT t.parent, (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + i * interval '1 month')::date
      FROM (VALUES ('receipts'), ('call_events')) AS t(parent), generate_series(0, 2) AS i
  ) p
 WHERE p.month >= date '2000-01-01'
   AND p.month <= (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '2 months')::date
 ORDER BY p.parent, p.month;
--> statement-breakpoint
INSERT INTO "receipts" ("id", "dedup_key", "message_type", "source", "call_id", "out_id",
                        "status_code", "event_time", "body", "received_at", "processed_at",
                        "error", "receipt_time")
SELECT "id", "dedup_key", "message_type", "source", "call_id", "out_id", "status_code",
       "event_time", "body", "received_at", "processed_at", "error",
       coalesce("event_time", "received_at")
  FROM "receipts_unpartitioned";
--> statement-breakpoint
INSERT INTO "receipt_keys" ("dedup_key", "receipt_id", "receipt_time")
SELECT "dedup_key", "id", "receipt_time" FROM "receipts";
--> statement-breakpoint
INSERT INTO "call_events" ("id", "call_id", "status_code", "status_time", "dtmf", "out_id",
                           "smart_status_code", "body", "received_at")
SELECT "id", "call_id", "status_code", "status_time", "dtmf", "out_id", "smart_status_code",
       "body", "received_at"
  FROM "call_events_unpartitioned";
--> statement-breakpoint
DROP TABLE "receipts_unpartitioned";
--> statement-breakpoint
DROP TABLE "call_events_unpartitioned";
--> statement-breakpoint
ALTER SEQUENCE "receipts_id_seq" OWNED BY "receipts"."id";
--> statement-breakpoint
ALTER SEQUENCE "call_events_id_seq" OWNED BY "call_events"."id";
--> statement-breakpoint
-- Unchanged from 0002_report_views.sql.
CREATE VIEW "report_out_id" AS
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
