/**
 * The merge rule of `calls`, stated once: for every column, who writes it and how a new value
 * meets the stored one. Receipts (applyReceipts.ts) and reconciliation (reconcileWrites.ts)
 * write the same row; their SQL and column lists are derived from CALL_COLUMNS below, and a
 * unit test checks that it names every column of schema.ts (the `satisfies` clause checks it at
 * compile time too).
 *
 * How the two sides meet:
 *   - receipts: a VoiceReport (the CDR) overrides the values of events and recordings, unless
 *     the call is already reconciled (the detail is authoritative); anything else only fills
 *     columns that are still NULL. Every receipt sets updated_at. (Within one batch,
 *     mergeCallPatches first ranks VoiceReport > VoiceRecordReport > VoiceCallReport per column.)
 *   - reconciliation writes the detail's values over the receipts' (`detail`), or only where
 *     the receipts said nothing (`fill`), and sets reconciled_at = updated_at = now(). So
 *     `updated_at > reconciled_at` means "a receipt changed the call since it was reconciled";
 *     the scheduler then re-applies the stored detail (no API call), which wins again.
 */
import { RECONCILE_STATUSES, type calls } from "../schema.js";

export { RECONCILE_STATUSES };

/** A `calls` row as the driver reads it (drizzle's inferred type of schema.ts). */
export type CallsRow = typeof calls.$inferSelect;
export type ReconcileStatus = (typeof RECONCILE_STATUSES)[number];

/**
 * Why a call ended `skipped` (calls.reconcile_skip_reason): `policy` (VMS_RECONCILE_POLICY left
 * it out), `off` (VMS_RECONCILE=off or no credentials), `replay` (replay --no-reconcile),
 * `inbound` (no CallId the detail API knows), `unsupported` (a kind of call the detail API never
 * has details for, learnt by src/reconcile/unsupportedKinds.ts).
 */
export const SKIP_REASONS = ["policy", "off", "replay", "inbound", "unsupported"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** SQL literals of reconcile statuses and skip reasons, checked against the lists above. */
export const status = (...s: readonly ReconcileStatus[]): string =>
  s.map((v) => `'${v}'`).join(", ");
export const skipReason = (s: SkipReason): string => `'${s}'`;

/** How a receipt batch's value meets the stored one (the upsert's ON CONFLICT). */
export type ReceiptRule =
  /** Overridden by a VoiceReport unless reconciled; otherwise only fills NULL. */
  | "cdr"
  /** Only ever upgraded to 'inbound' (a receipt keyed by biz_id), never back. */
  | "inbound"
  /** When the first VoiceReport arrived: set once, from the batch's `hasReport`. */
  | "reportArrival"
  /** The latest in-call event: moves forward in time only (ties broken by code). */
  | "newerEvent"
  /** now() on every write. */
  | "touch";

/** How a found detail meets the stored value (reconcileWrites.ts). */
export type DetailRule =
  /** The detail's value wins where it has one. */
  | "detail"
  /** The detail only fills a column the receipts left NULL. */
  | "fill";

/** `key`: the primary key; `reconcile`: written by reconciliation only; `default`: by the database. */
export type Owner = "key" | "receipts" | "reconcile" | "default";

export interface ColumnRule {
  column: string;
  /** The PostgreSQL type the column's values travel as (json_to_recordset, unnest). */
  type: "text" | "timestamptz" | "int" | "jsonb";
  owner: Owner;
  receipt?: ReceiptRule;
  detail?: DetailRule;
}

const text = "text";
const time = "timestamptz";

export const CALL_COLUMNS = {
  callId: { column: "call_id", type: text, owner: "key" },
  direction: { column: "direction", type: text, owner: "receipts", receipt: "inbound" },
  outId: { column: "out_id", type: text, owner: "receipts", receipt: "cdr" },
  caller: { column: "caller", type: text, owner: "receipts", receipt: "cdr", detail: "detail" },
  callee: { column: "callee", type: text, owner: "receipts", receipt: "cdr", detail: "detail" },
  statusCode: {
    column: "status_code",
    type: text,
    owner: "receipts",
    receipt: "cdr",
    detail: "detail",
  },
  statusMsg: {
    column: "status_msg",
    type: text,
    owner: "receipts",
    receipt: "cdr",
    detail: "detail",
  },
  smartStatusCode: { column: "smart_status_code", type: text, owner: "receipts", receipt: "cdr" },
  earlyMediaCode: { column: "early_media_code", type: text, owner: "receipts", receipt: "cdr" },
  voiceType: { column: "voice_type", type: text, owner: "receipts", receipt: "cdr" },
  originateTime: { column: "originate_time", type: time, owner: "receipts", receipt: "cdr" },
  // The detail's bRingTime only fills: receipts' ring time is the more precise one.
  ringTime: { column: "ring_time", type: time, owner: "receipts", receipt: "cdr", detail: "fill" },
  startTime: {
    column: "start_time",
    type: time,
    owner: "receipts",
    receipt: "cdr",
    detail: "detail",
  },
  endTime: { column: "end_time", type: time, owner: "receipts", receipt: "cdr", detail: "detail" },
  durationSeconds: {
    column: "duration_seconds",
    type: "int",
    owner: "receipts",
    receipt: "cdr",
    detail: "detail",
  },
  hangupDirection: {
    column: "hangup_direction",
    type: text,
    owner: "receipts",
    receipt: "cdr",
    detail: "detail",
  },
  // Also recomputed from call_events until the CDR arrives (applyReceipts.ts, refreshDtmf).
  dtmf: { column: "dtmf", type: text, owner: "receipts", receipt: "cdr" },
  reportReceivedAt: {
    column: "report_received_at",
    type: time,
    owner: "receipts",
    receipt: "reportArrival",
  },
  lastEventTime: {
    column: "last_event_time",
    type: time,
    owner: "receipts",
    receipt: "newerEvent",
  },
  lastEventCode: {
    column: "last_event_code",
    type: text,
    owner: "receipts",
    receipt: "newerEvent",
  },
  reconcileStatus: { column: "reconcile_status", type: text, owner: "reconcile" },
  reconcileAttempts: { column: "reconcile_attempts", type: "int", owner: "reconcile" },
  reconcileDueAt: { column: "reconcile_due_at", type: time, owner: "reconcile" },
  reconciledAt: { column: "reconciled_at", type: time, owner: "reconcile" },
  reconcileSkipReason: { column: "reconcile_skip_reason", type: text, owner: "reconcile" },
  prodId: { column: "prod_id", type: text, owner: "reconcile" },
  detail: { column: "detail", type: "jsonb", owner: "reconcile" },
  discrepancies: { column: "discrepancies", type: "jsonb", owner: "reconcile" },
  createdAt: { column: "created_at", type: time, owner: "default" },
  // Both sides set it; it is how reconciliation sees a receipt's change (see the header).
  updatedAt: { column: "updated_at", type: time, owner: "receipts", receipt: "touch" },
} as const satisfies { [K in keyof CallsRow]: ColumnRule };

type Columns = typeof CALL_COLUMNS;
type KeysWith<P extends keyof ColumnRule, V> = {
  [K in keyof Columns]: Columns[K] extends Record<P, V> ? K : never;
}[keyof Columns];

/** A column with its property name (the key of CallsRow, CallPatch, DetailValues) and rule. */
export interface Column<K extends keyof Columns = keyof Columns> extends ColumnRule {
  key: K;
}

/** Every column, in the table's order. */
export const COLUMNS: readonly Column[] = (Object.keys(CALL_COLUMNS) as (keyof Columns)[]).map(
  (key) => ({ key, ...(CALL_COLUMNS[key] as ColumnRule) }),
);

/** Columns a receipt fills with the CDR rule: the fields of a CallPatch. */
export type ReceiptFieldKey = KeysWith<"receipt", "cdr">;
export const RECEIPT_FIELDS = COLUMNS.filter(
  (c): c is Column<ReceiptFieldKey> => c.receipt === "cdr",
);

/** Columns a found detail writes (each with its DetailRule). */
export type DetailKey = KeysWith<"detail", DetailRule>;
export const DETAIL_FIELDS = COLUMNS.filter(
  (c): c is Column<DetailKey> & { detail: DetailRule } => c.detail !== undefined,
);
/** The values a found detail brings (null = keep what the receipts said). */
export type DetailColumns = { [K in DetailKey]: CallsRow[K] };
