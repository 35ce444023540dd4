CREATE TABLE "call_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"call_id" text NOT NULL,
	"status_code" text NOT NULL,
	"status_time" timestamp with time zone,
	"dtmf" text,
	"out_id" text,
	"smart_status_code" text,
	"body" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "call_events_natural_key" UNIQUE NULLS NOT DISTINCT("call_id","status_code","status_time","dtmf")
);
--> statement-breakpoint
CREATE TABLE "calls" (
	"call_id" text PRIMARY KEY NOT NULL,
	"direction" text DEFAULT 'outbound' NOT NULL,
	"out_id" text,
	"caller" text,
	"callee" text,
	"status_code" text,
	"status_msg" text,
	"smart_status_code" text,
	"early_media_code" text,
	"voice_type" text,
	"originate_time" timestamp with time zone,
	"ring_time" timestamp with time zone,
	"start_time" timestamp with time zone,
	"end_time" timestamp with time zone,
	"duration_seconds" integer,
	"hangup_direction" text,
	"dtmf" text,
	"report_received_at" timestamp with time zone,
	"last_event_time" timestamp with time zone,
	"last_event_code" text,
	"reconcile_status" text DEFAULT 'pending' NOT NULL,
	"reconcile_attempts" integer DEFAULT 0 NOT NULL,
	"reconcile_due_at" timestamp with time zone,
	"reconciled_at" timestamp with time zone,
	"prod_id" text,
	"detail" jsonb,
	"discrepancies" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "calls_reconcile_status_check" CHECK ("calls"."reconcile_status" in ('pending', 'reconciled', 'not_found', 'skipped')),
	CONSTRAINT "calls_direction_check" CHECK ("calls"."direction" in ('outbound', 'inbound'))
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"id" bigserial PRIMARY KEY NOT NULL,
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
	CONSTRAINT "receipts_dedup_key_unique" UNIQUE("dedup_key"),
	CONSTRAINT "receipts_source_check" CHECK ("receipts"."source" in ('mns', 'http', 'replay'))
);
--> statement-breakpoint
CREATE TABLE "recordings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"call_id" text NOT NULL,
	"record_file" text NOT NULL,
	"out_id" text,
	"start_time" timestamp with time zone,
	"end_time" timestamp with time zone,
	"duration_seconds" integer,
	"record_begin_time" timestamp with time zone,
	"status_code" text,
	"smart_status_code" text,
	"body" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recordings_natural_key" UNIQUE("call_id","record_file")
);
--> statement-breakpoint
CREATE TABLE "rejected_receipts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"source" text NOT NULL,
	"message_type" text,
	"raw" text NOT NULL,
	"reason" text NOT NULL,
	"location" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rejected_receipts_fingerprint_unique" UNIQUE("fingerprint")
);
--> statement-breakpoint
CREATE INDEX "call_events_status_time_idx" ON "call_events" USING btree ("status_time");--> statement-breakpoint
CREATE INDEX "call_events_out_id_idx" ON "call_events" USING btree ("out_id");--> statement-breakpoint
CREATE INDEX "calls_out_id_idx" ON "calls" USING btree ("out_id");--> statement-breakpoint
CREATE INDEX "calls_reconcile_status_idx" ON "calls" USING btree ("reconcile_status","reconcile_due_at");--> statement-breakpoint
CREATE INDEX "calls_start_time_idx" ON "calls" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "calls_end_time_idx" ON "calls" USING btree ("end_time");--> statement-breakpoint
CREATE INDEX "calls_created_at_idx" ON "calls" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "receipts_unprocessed_idx" ON "receipts" USING btree ("id") WHERE "receipts"."processed_at" is null;--> statement-breakpoint
CREATE INDEX "receipts_call_id_idx" ON "receipts" USING btree ("call_id");--> statement-breakpoint
CREATE INDEX "rejected_receipts_received_at_idx" ON "rejected_receipts" USING btree ("received_at");