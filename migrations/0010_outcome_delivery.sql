-- Outcome delivery (README "Deliver outcomes to your systems"). Hand-written, like 0005: the
-- tables are partitioned by month, which drizzle-kit cannot express; src/store/schema.ts
-- describes their columns, keys and indexes.
--
-- events      the outbox: one row per event, written in the transaction of the change that
--             causes it (src/store/events/); partitioned by occurred_at.
-- deliveries  one row per attempt to send one event to one endpoint (src/store/deliveries/).
--             The next attempt is a row with status 'pending' and a due_at; sending it turns it
--             into 'delivered', 'failed' (a next pending row is added) or 'dead'. Partitioned
--             by created_at (fixed when the row is inserted).
-- delivery_endpoints  per endpoint URL: failing since when, paused or not.

-- vr_create_month_partition learns the two new tables; otherwise unchanged from 0005.
CREATE OR REPLACE FUNCTION "vr_create_month_partition"(parent text, month date)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  m date := date_trunc('month', month)::date;
  part text := format('%s_p%s', parent, to_char(m, 'YYYY_MM'));
  def text := parent || '_default';
  col text := CASE parent WHEN 'receipts' THEN 'receipt_time'
                          WHEN 'call_events' THEN 'status_time'
                          WHEN 'events' THEN 'occurred_at'
                          WHEN 'deliveries' THEN 'created_at' END;
  lo timestamptz := m::timestamp AT TIME ZONE 'Asia/Shanghai';
  hi timestamptz := (m + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai';
  waiting boolean;
BEGIN
  IF col IS NULL THEN
    RAISE EXCEPTION 'vr_create_month_partition: % is not a partitioned table', parent;
  END IF;
  PERFORM pg_advisory_xact_lock(7403221905118221);
  IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent);
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)', def, col, col)
    INTO waiting USING lo, hi;
  IF waiting THEN
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
CREATE TABLE "events" (
	"id" text NOT NULL,
	"seq" bigserial NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"call_id" text,
	"out_id" text,
	"payload" jsonb NOT NULL,
	"fanned_out_at" timestamp with time zone,
	CONSTRAINT "events_pkey" PRIMARY KEY ("id", "occurred_at")
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE INDEX "events_id_idx" ON "events" USING btree ("id");
--> statement-breakpoint
CREATE INDEX "events_call_type_idx" ON "events" USING btree ("call_id", "type");
--> statement-breakpoint
CREATE INDEX "events_unfanned_idx" ON "events" USING btree ("seq") WHERE "fanned_out_at" is null;
--> statement-breakpoint
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigserial NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"event_id" text NOT NULL,
	"event_seq" bigint NOT NULL,
	"event_occurred_at" timestamp with time zone NOT NULL,
	"event_type" text NOT NULL,
	"call_id" text,
	"endpoint" text NOT NULL,
	"attempt" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"leased_until" timestamp with time zone,
	"attempted_at" timestamp with time zone,
	"http_status" integer,
	"latency_ms" integer,
	"response" text,
	"error" text,
	"replay" boolean DEFAULT false NOT NULL,
	CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id", "created_at"),
	CONSTRAINT "deliveries_status_check" CHECK ("status" in ('pending', 'delivered', 'failed', 'dead'))
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
CREATE INDEX "deliveries_due_idx" ON "deliveries" USING btree ("due_at") WHERE "status" = 'pending';
--> statement-breakpoint
CREATE INDEX "deliveries_pending_order_idx" ON "deliveries" USING btree ("endpoint", "call_id", "event_seq") WHERE "status" = 'pending';
--> statement-breakpoint
CREATE INDEX "deliveries_event_idx" ON "deliveries" USING btree ("event_id");
--> statement-breakpoint
CREATE INDEX "deliveries_attempted_idx" ON "deliveries" USING btree ("attempted_at");
--> statement-breakpoint
CREATE TABLE "deliveries_default" PARTITION OF "deliveries" DEFAULT;
--> statement-breakpoint
CREATE TABLE "delivery_endpoints" (
	"url" text PRIMARY KEY NOT NULL,
	"failing_since" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"paused_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
SELECT "vr_create_month_partition"(t.parent, (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + i * interval '1 month')::date)
  FROM (VALUES ('events'), ('deliveries')) AS t(parent), generate_series(0, 2) AS i
 ORDER BY t.parent, i;
