-- Recording store (issue 20): each recordings row tracks the download of its record_file into
-- the configured store. fetch_next_at is the outbox's schedule: the worker claims pending rows
-- whose time has come, closest link expiry first, so a restart or a Redis loss loses nothing.
ALTER TABLE "recordings" ADD COLUMN "storage_key" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "sha256" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "bytes" bigint;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "content_type" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "fetch_status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "fetch_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "fetch_error" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "stored_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "link_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "fetch_next_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_fetch_status_check" CHECK ("recordings"."fetch_status" in ('pending', 'stored', 'expired', 'failed', 'skipped'));--> statement-breakpoint
-- link_expires_at is derived from the row itself (the signed URL's Expires, in epoch seconds, else
-- received_at + 7 days), so every writer of recordings gets it without knowing about it.
CREATE FUNCTION "recordings_link_expires_at"(record_file text, received_at timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    to_timestamp(nullif(substring(record_file from '[?&]Expires=([0-9]{1,11})(?:&|#|$)'), '')::bigint),
    received_at + interval '168 hours')
$$;--> statement-breakpoint
CREATE FUNCTION "recordings_set_link_expires_at"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.link_expires_at IS NULL THEN
    NEW.link_expires_at := recordings_link_expires_at(NEW.record_file, NEW.received_at);
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "recordings_link_expires_at" BEFORE INSERT ON "recordings"
  FOR EACH ROW EXECUTE FUNCTION recordings_set_link_expires_at();--> statement-breakpoint
UPDATE "recordings" SET "link_expires_at" = recordings_link_expires_at("record_file", "received_at");--> statement-breakpoint
-- The fetcher's claim: pending rows by due time; the report and the alert: pending by expiry.
CREATE INDEX "recordings_fetch_due_idx" ON "recordings" USING btree ("fetch_next_at", "link_expires_at") WHERE "fetch_status" = 'pending';--> statement-breakpoint
CREATE INDEX "recordings_received_at_idx" ON "recordings" USING btree ("received_at");
