/**
 * PostgreSQL schema (README "Database"; users and reports rely on it). drizzle-kit generates
 * `migrations/` from this file; never edit an applied migration, add a new one.
 *
 * Times are timestamptz; Alibaba's `yyyy-MM-dd HH:mm:ss` strings are converted from Asia/Shanghai
 * before they get here. Empty strings are stored as NULL.
 *
 * Over 300 lines on purpose: it is the one description of every table, read as a whole (by
 * drizzle-kit and by people), and its parts reference each other.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

import { EVENT_TYPES } from "../domain/outcomeEvents.js";

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const RECEIPT_SOURCES = ["mns", "http", "replay"] as const;
/** calls.reconcile_status; the SQL of src/store/calls/ writes them through calls/columns.ts. */
export const RECONCILE_STATUSES = ["pending", "reconciled", "not_found", "skipped"] as const;
export const DIRECTIONS = ["outbound", "inbound"] as const;

/** `('a', 'b')`: the values of an enum above, for a CHECK constraint (kept in step with it). */
const oneOf = (values: readonly string[]) => sql.raw(`(${values.map((v) => `'${v}'`).join(", ")})`);

/**
 * Every receipt exactly as received, once per dedup key (the raw ledger).
 *
 * Partitioned by month of `receipt_time` (migrations/0005_partition_receipts.sql; drizzle-kit
 * cannot express PARTITION BY, so this declaration describes the columns, keys and indexes and
 * the partitioning lives only in that hand-written migration — see README "Database"). A
 * partitioned table's unique indexes must contain the partition key, so `dedup_key` is unique
 * through `receipt_keys` (below), not through an index here.
 */
export const receipts = pgTable(
  "receipts",
  {
    id: bigserial("id", { mode: "number" }).notNull(),
    dedupKey: text("dedup_key").notNull(),
    messageType: text("message_type").notNull(),
    source: text("source", { enum: RECEIPT_SOURCES }).notNull(),
    callId: text("call_id"),
    outId: text("out_id"),
    statusCode: text("status_code"),
    /** status_time (VoiceCallReport) or end_time/start_time (VoiceReport, VoiceRecordReport). */
    eventTime: tstz("event_time"),
    body: jsonb("body").notNull(),
    receivedAt: tstz("received_at").notNull().defaultNow(),
    /** Set once the receipt has been applied to calls/call_events/recordings (or dead-lettered). */
    processedAt: tstz("processed_at"),
    /** Why the receipt could never be applied (dead letter); NULL when it was. */
    error: text("error"),
    /**
     * The partition key: event_time, else when the first delivery arrived. Fixed at the first
     * delivery and kept in receipt_keys, so a later delivery never needs to derive it again.
     */
    receiptTime: tstz("receipt_time").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "receipts_pkey", columns: [t.id, t.receiptTime] }),
    // The sweeper looks for receipts that are durable but were never processed; jobs find their
    // receipts by id through it too (it is empty in every settled month's partition).
    index("receipts_unprocessed_idx")
      .on(t.id)
      .where(sql`${t.processedAt} is null`),
    index("receipts_call_id_idx").on(t.callId),
    // Deliberately few indexes: every one is paid for on the push path (see README, benchmarks).
    check("receipts_source_check", sql`${t.source} in ${oneOf(RECEIPT_SOURCES)}`),
  ],
);

/**
 * The dedup keys of `receipts` (unpartitioned): a key is inserted here in the same statement as
 * its receipt, and only if it was new, so dedup stays exact whichever partition two deliveries
 * of one receipt would fall into (their bodies may differ in fields the key does not cover, e.g.
 * a VoiceReport's end_time). Also the index from a key to its receipt's (id, receipt_time).
 */
export const receiptKeys = pgTable("receipt_keys", {
  dedupKey: text("dedup_key").primaryKey(),
  receiptId: bigint("receipt_id", { mode: "number" }).notNull(),
  receiptTime: tstz("receipt_time").notNull(),
});

/** One row per call (outbound: call_id; inbound: biz_id), completed by every receipt and by reconcile. */
export const calls = pgTable(
  "calls",
  {
    callId: text("call_id").primaryKey(),
    /** `outbound` (call_id) or `inbound` (biz_id). */
    direction: text("direction", { enum: DIRECTIONS }).notNull().default("outbound"),
    outId: text("out_id"),
    caller: text("caller"),
    callee: text("callee"),
    statusCode: text("status_code"),
    statusMsg: text("status_msg"),
    smartStatusCode: text("smart_status_code"),
    earlyMediaCode: text("early_media_code"),
    voiceType: text("voice_type"),
    originateTime: tstz("originate_time"),
    ringTime: tstz("ring_time"),
    startTime: tstz("start_time"),
    endTime: tstz("end_time"),
    durationSeconds: integer("duration_seconds"),
    hangupDirection: text("hangup_direction"),
    dtmf: text("dtmf"),
    /** When the VoiceReport (the CDR) arrived; NULL while only events/recordings were seen. */
    reportReceivedAt: tstz("report_received_at"),
    /** The latest in-call event seen, so an older VoiceCallReport never rolls the state back. */
    lastEventTime: tstz("last_event_time"),
    lastEventCode: text("last_event_code"),
    reconcileStatus: text("reconcile_status", { enum: RECONCILE_STATUSES })
      .notNull()
      .default("pending"),
    reconcileAttempts: integer("reconcile_attempts").notNull().default(0),
    reconcileDueAt: tstz("reconcile_due_at"),
    reconciledAt: tstz("reconciled_at"),
    /**
     * Why a `skipped` call was not reconciled: `policy` (VMS_RECONCILE_POLICY left it out),
     * `off` (VMS_RECONCILE=off), `replay` (--no-reconcile), `inbound` (no CallId to query).
     */
    reconcileSkipReason: text("reconcile_skip_reason"),
    prodId: text("prod_id"),
    detail: jsonb("detail"),
    discrepancies: jsonb("discrepancies"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("calls_reconcile_status_idx").on(t.reconcileStatus, t.reconcileDueAt),
    // The reconcile scheduler's "reconciled, then changed by a newer receipt" scan: only rows
    // waiting for a re-reconcile are in it, so the scan costs nothing on a settled table.
    index("calls_reconcile_changed_idx")
      .on(t.reconcileDueAt)
      .where(sql`${t.reconcileStatus} = 'reconciled' and ${t.updatedAt} > ${t.reconciledAt}`),
    // No index on out_id, start_time, end_time or created_at alone: nothing reads through them
    // and each costs an entry per receipt applied (migrations/0011_calls_write_cost.sql).
    // The call explorer's searches (migrations/0007_explorer.sql, hand-written for the
    // operator classes): newest first by the call's report time, out_id prefix, number suffix.
    index("calls_explorer_time_idx").on(
      sql`(coalesce(${t.startTime}, ${t.endTime}, ${t.originateTime}, ${t.ringTime}, ${t.lastEventTime}, ${t.createdAt})) desc`,
      sql`${t.callId} desc`,
    ),
    index("calls_explorer_status_idx").on(
      t.statusCode,
      sql`(coalesce(${t.startTime}, ${t.endTime}, ${t.originateTime}, ${t.ringTime}, ${t.lastEventTime}, ${t.createdAt})) desc`,
      sql`${t.callId} desc`,
    ),
    // The product expression of src/store/explorer/callTime.ts (spelt out in the migration).
    index("calls_explorer_product_idx").on(
      sql`(case when ${t.direction} = 'inbound' then 'inbound' when starts_with(${t.outId}, 'ALICOM_SMART_SAAS^') then 'robot' when ${t.prodId} = '11000000300006' then 'notification' when ${t.prodId} = '11010000138001' then 'verification' when ${t.prodId} = '11000000300005' then 'ivr' when ${t.prodId} = '11030000180001' then 'smart' end)`,
      sql`(coalesce(${t.startTime}, ${t.endTime}, ${t.originateTime}, ${t.ringTime}, ${t.lastEventTime}, ${t.createdAt})) desc`,
      sql`${t.callId} desc`,
    ),
    // report_calls.day, verbatim (migrations/0002_report_views.sql).
    index("calls_report_day_idx").on(
      sql`((coalesce(${t.startTime}, ${t.endTime}, ${t.originateTime}, ${t.ringTime}, ${t.lastEventTime}, ${t.createdAt}) at time zone 'Asia/Shanghai')::date)`,
    ),
    index("calls_out_id_prefix_idx").on(sql`${t.outId} text_pattern_ops`),
    index("calls_callee_suffix_idx").on(sql`reverse(${t.callee}) text_pattern_ops`),
    index("calls_caller_suffix_idx").on(sql`reverse(${t.caller}) text_pattern_ops`),
    check(
      "calls_reconcile_status_check",
      sql`${t.reconcileStatus} in ${oneOf(RECONCILE_STATUSES)}`,
    ),
    check("calls_direction_check", sql`${t.direction} in ${oneOf(DIRECTIONS)}`),
  ],
);

/**
 * In-call states and DTMF (VoiceCallReport), once each. Partitioned by month of status_time
 * (NULL status_time: the default partition) in migrations/0005, like receipts; the natural key
 * contains status_time, so it stays a unique constraint. No primary key: one over a partitioned
 * table would need status_time, which may be NULL; nothing looks events up by id.
 */
export const callEvents = pgTable(
  "call_events",
  {
    id: bigserial("id", { mode: "number" }).notNull(),
    callId: text("call_id").notNull(),
    statusCode: text("status_code").notNull(),
    statusTime: tstz("status_time"),
    dtmf: text("dtmf"),
    outId: text("out_id"),
    smartStatusCode: text("smart_status_code"),
    body: jsonb("body").notNull(),
    receivedAt: tstz("received_at").notNull().defaultNow(),
  },
  (t) => [
    // NULLS NOT DISTINCT: an event without dtmf must still collapse with its duplicate.
    unique("call_events_natural_key")
      .on(t.callId, t.statusCode, t.statusTime, t.dtmf)
      .nullsNotDistinct(),
    index("call_events_status_time_idx").on(t.statusTime),
    index("call_events_out_id_idx").on(t.outId),
  ],
);

/** Recordings (VoiceRecordReport), once per call and file. */
export const recordings = pgTable(
  "recordings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    callId: text("call_id").notNull(),
    recordFile: text("record_file").notNull(),
    outId: text("out_id"),
    startTime: tstz("start_time"),
    endTime: tstz("end_time"),
    durationSeconds: integer("duration_seconds"),
    recordBeginTime: tstz("record_begin_time"),
    statusCode: text("status_code"),
    smartStatusCode: text("smart_status_code"),
    body: jsonb("body").notNull(),
    receivedAt: tstz("received_at").notNull().defaultNow(),
    /** Object key in the recording store (VMS_RECORDINGS_STORE) once stored. */
    storageKey: text("storage_key"),
    /** Hex SHA-256 of the stored bytes, computed while streaming. */
    sha256: text("sha256"),
    bytes: bigint("bytes", { mode: "number" }),
    contentType: text("content_type"),
    /** pending → stored | expired | failed; skipped while the store is off. */
    fetchStatus: text("fetch_status").notNull().default("pending"),
    fetchAttempts: integer("fetch_attempts").notNull().default(0),
    fetchError: text("fetch_error"),
    storedAt: tstz("stored_at"),
    /** The signed URL's Expires, else received_at + 7 days (set by a trigger on insert). */
    linkExpiresAt: tstz("link_expires_at"),
    /** When the fetcher may try (again); also its lease while a download runs. */
    fetchNextAt: tstz("fetch_next_at").notNull().defaultNow(),
  },
  (t) => [
    unique("recordings_natural_key").on(t.callId, t.recordFile),
    check(
      "recordings_fetch_status_check",
      sql`${t.fetchStatus} in ('pending', 'stored', 'expired', 'failed', 'skipped')`,
    ),
    index("recordings_fetch_due_idx")
      .on(t.fetchNextAt, t.linkExpiresAt)
      .where(sql`${t.fetchStatus} = 'pending'`),
    // The fetcher's claim order (0012): closest expiry first, the due test on the entry.
    index("recordings_fetch_claim_idx")
      .on(t.linkExpiresAt, t.id, t.fetchNextAt)
      .where(sql`${t.fetchStatus} = 'pending'`),
    index("recordings_received_at_idx").on(t.receivedAt),
  ],
);

/** Quarantine: everything that could not be processed, with the reason, kept for inspection. */
export const rejectedReceipts = pgTable(
  "rejected_receipts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** sha256 of source-independent content, so a redelivered poison message is kept once. */
    fingerprint: text("fingerprint").notNull(),
    source: text("source", { enum: RECEIPT_SOURCES }).notNull(),
    messageType: text("message_type"),
    raw: text("raw").notNull(),
    reason: text("reason").notNull(),
    /** Where it came from: `file:line` for replay, queue name for MNS, route for HTTP. */
    location: text("location"),
    receivedAt: tstz("received_at").notNull().defaultNow(),
  },
  (t) => [
    unique("rejected_receipts_fingerprint_unique").on(t.fingerprint),
    index("rejected_receipts_received_at_idx").on(t.receivedAt),
    // The call explorer's rejected receipts of one reason, newest first (0007_explorer.sql).
    index("rejected_receipts_reason_idx").on(t.reason, t.receivedAt.desc(), t.id.desc()),
  ],
);

export const SMART_CALL_ANSWER_SOURCES = ["webhook", "rules", "default"] as const;

/**
 * Smart voice interaction (SmartCall ASR callback) turns, once each: what the platform sent,
 * and what was answered, by whom and why. Platform retries of the same turn collapse on
 * (call_id, turn_time, role) and only bump `deliveries`.
 */
export const dialogueTurns = pgTable(
  "dialogue_turns",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /**
     * The callback inserts the `calls` row (outbound) in the same statement when missing. No
     * foreign key: tests, benches and operators truncate `calls` on its own.
     */
    callId: text("call_id").notNull(),
    /** The callback's `timestamp` parameter (epoch ms): when the platform sent this turn. */
    turnTime: tstz("turn_time").notNull(),
    /** `content.role` (e.g. `B`); NULL for mute/dtmf/timebreak turns, which carry none. */
    role: text("role"),
    /** normal, mute, timebreak, dtmf, parallel_transfer (others are kept as sent). */
    contentType: text("content_type").notNull(),
    identity: text("identity"),
    words: text("words"),
    /** `content.dtmf_digits` (`noInputTimeout` when the user pressed nothing in time). */
    dtmf: text("dtmf"),
    beginOffsetMs: integer("begin_offset_ms"),
    endOffsetMs: integer("end_offset_ms"),
    dynamicId: text("dynamic_id"),
    /** `content` decoded from its JSON string. */
    content: jsonb("content").notNull(),
    /** The request parameters exactly as received (the push token removed). */
    body: jsonb("body").notNull(),
    /** How many times the platform delivered this turn. */
    deliveries: integer("deliveries").notNull().default(1),
    answeredAction: text("answered_action"),
    answeredActionCode: text("answered_action_code"),
    /** The whole `data` object answered (action, action_code and any extra fields). */
    answer: jsonb("answer"),
    answeredBy: text("answered_by", { enum: SMART_CALL_ANSWER_SOURCES }),
    /** Why: the rule that matched, the webhook's failure, … */
    answeredReason: text("answered_reason"),
    /** ok, no_answer, timeout, http_error, invalid, error, skipped; NULL without a webhook. */
    webhookOutcome: text("webhook_outcome"),
    answeredAt: tstz("answered_at"),
    /** From the callback's arrival to its answer being ready. */
    latencyMs: integer("latency_ms"),
    receivedAt: tstz("received_at").notNull().defaultNow(),
  },
  (t) => [
    // NULLS NOT DISTINCT: a retried dtmf/mute turn (no role) must collapse too.
    unique("dialogue_turns_natural_key").on(t.callId, t.turnTime, t.role).nullsNotDistinct(),
    index("dialogue_turns_received_at_idx").on(t.receivedAt),
    check(
      "dialogue_turns_answered_by_check",
      sql`${t.answeredBy} is null or ${t.answeredBy} in ${oneOf(SMART_CALL_ANSWER_SOURCES)}`,
    ),
  ],
);

export const DELIVERY_STATUSES = ["pending", "delivered", "failed", "dead"] as const;

/**
 * The outbox of outcome events (migrations/0010_outcome_delivery.sql, README "Deliver outcomes
 * to your systems"): written in the transaction of the change that causes the event
 * (src/store/events/), announced with NOTIFY voice_receipts_events on commit. Partitioned by
 * month of occurred_at; `id` is the webhook-id receivers dedup on.
 */
export const events = pgTable(
  "events",
  {
    id: text("id").notNull(),
    /** Order of events (per call, deliveries keep it). */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    type: text("type", { enum: EVENT_TYPES }).notNull(),
    occurredAt: tstz("occurred_at").notNull().defaultNow(),
    callId: text("call_id"),
    outId: text("out_id"),
    payload: jsonb("payload").notNull(),
    /** When the delivery worker created its endpoints' first pending deliveries. */
    fannedOutAt: tstz("fanned_out_at"),
  },
  (t) => [
    primaryKey({ name: "events_pkey", columns: [t.id, t.occurredAt] }),
    index("events_id_idx").on(t.id),
    index("events_call_type_idx").on(t.callId, t.type),
    index("events_unfanned_idx")
      .on(t.seq)
      .where(sql`${t.fannedOutAt} is null`),
  ],
);

/**
 * Every attempt to send one event to one endpoint, and the next one (status `pending`, due at
 * `due_at`). Partitioned by month of created_at (src/store/deliveries/).
 */
export const deliveries = pgTable(
  "deliveries",
  {
    id: bigserial("id", { mode: "number" }).notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    eventId: text("event_id").notNull(),
    eventSeq: bigint("event_seq", { mode: "number" }).notNull(),
    eventOccurredAt: tstz("event_occurred_at").notNull(),
    eventType: text("event_type").notNull(),
    callId: text("call_id"),
    endpoint: text("endpoint").notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    dueAt: tstz("due_at").notNull(),
    /** A worker sending it holds it until then; a worker killed mid-send lets it expire. */
    leasedUntil: tstz("leased_until"),
    attemptedAt: tstz("attempted_at"),
    httpStatus: integer("http_status"),
    latencyMs: integer("latency_ms"),
    /** The first bytes of the response body. */
    response: text("response"),
    error: text("error"),
    /** Added by `deliveries replay`. */
    replay: boolean("replay").notNull().default(false),
  },
  (t) => [
    primaryKey({ name: "deliveries_pkey", columns: [t.id, t.createdAt] }),
    index("deliveries_due_idx")
      .on(t.dueAt)
      .where(sql`${t.status} = 'pending'`),
    index("deliveries_pending_order_idx")
      .on(t.endpoint, t.callId, t.eventSeq)
      .where(sql`${t.status} = 'pending'`),
    index("deliveries_event_idx").on(t.eventId),
    index("deliveries_attempted_idx").on(t.attemptedAt),
    check(
      "deliveries_status_check",
      sql`${t.status} in ('pending', 'delivered', 'failed', 'dead')`,
    ),
  ],
);

/** Per webhook endpoint: failing since when, paused (until `deliveries resume`). */
export const deliveryEndpoints = pgTable("delivery_endpoints", {
  url: text("url").primaryKey(),
  failingSince: tstz("failing_since"),
  lastSuccessAt: tstz("last_success_at"),
  pausedAt: tstz("paused_at"),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});
