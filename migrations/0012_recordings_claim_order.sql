-- The recording fetcher's claim walks this index in its own order (closest link expiry first)
-- and stops after the few rows it claims (src/store/recordings/fetchQueue.ts, claimDue). Before,
-- every claim sorted every due recording twice (one row per recording, then by expiry): 60 ms
-- per claim with 12,000 pending, and the fetcher claims each time a download ends, so during a
-- backlog it kept a PostgreSQL backend busy (docs/benchmarks.md, "The persist regression").
-- fetch_next_at is a key column so that the due test is made on the index entry, without a
-- heap visit for rows waiting out a retry. recordings_fetch_due_idx stays: when nothing or
-- little is due, the planner finds the due rows through it instead.
CREATE INDEX IF NOT EXISTS "recordings_fetch_claim_idx" ON "recordings" USING btree ("link_expires_at", "id", "fetch_next_at") WHERE "fetch_status" = 'pending';
