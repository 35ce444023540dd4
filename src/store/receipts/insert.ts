/**
 * The durable inbox: raw receipts, inserted once per dedup key. One set-based statement per
 * batch (one round trip), idempotent so any retry is harmless.
 */
import type pg from "pg";

import { isoTime } from "../isoTime.js";
import type { RECEIPT_SOURCES } from "../schema.js";

export type ReceiptSource = (typeof RECEIPT_SOURCES)[number];

export interface ReceiptRow {
  dedupKey: string;
  messageType: string;
  source: ReceiptSource;
  callId: string | null;
  outId: string | null;
  statusCode: string | null;
  eventTime: Date | null;
  /** JSON text of the body exactly as received; null when `element` points at it instead. */
  bodyJson: string | null;
  /**
   * The body as element `index` of the JSON array in `array` (UTF-8 bytes of an HTTP push body,
   * every element of which validated): sent to PostgreSQL as received, once per statement,
   * instead of being serialised again receipt by receipt.
   */
  element?: ArrayElement | undefined;
}

export interface ArrayElement {
  array: Buffer;
  index: number;
}

export interface InsertedReceipt {
  id: number;
  dedupKey: string;
  /** false: the dedup key was already there but not yet processed (a retry of a failed enqueue). */
  inserted: boolean;
}

/**
 * The receipt INSERT. `receipt_keys` is the dedup authority (receipts is partitioned by
 * receipt_time and cannot hold a unique index on dedup_key alone, README "Database"): a key is
 * claimed there with the receipt's id and receipt_time, and only the receipts whose key was
 * claimed are inserted, in the same statement. For keys claimed before, the receipt is returned
 * while still unprocessed, so a re-push after a failed enqueue enqueues it again. (Reading those
 * uses the statement's snapshot: a key claimed by a concurrent, later-committing statement is a
 * plain duplicate here; that statement enqueues it, and the sweeper covers a failed enqueue.)
 */
const INSERT_RECEIPTS = `
with x as (
  select k, t, s, c, o, st, e, coalesce(b, $3::jsonb -> p -> i) as b,
         coalesce(e, $2::timestamptz) as rt
    from jsonb_to_recordset($1::jsonb)
      as x(k text, t text, s text, c text, o text, st text, e timestamptz, b jsonb, p int, i int)),
claimed as (
  insert into receipt_keys (dedup_key, receipt_id, receipt_time)
  select k, nextval('receipts_id_seq'), rt from x
  on conflict (dedup_key) do nothing
  returning dedup_key, receipt_id, receipt_time),
ins as (
  insert into receipts (id, dedup_key, message_type, source, call_id, out_id, status_code,
                        event_time, receipt_time, body)
  select claimed.receipt_id, x.k, x.t, x.s, x.c, x.o, x.st, x.e, claimed.receipt_time, x.b
    from claimed join x on x.k = claimed.dedup_key
  returning id, dedup_key)
select id, dedup_key, true as inserted from ins
union all
select r.id, r.dedup_key, false
  from x
  join receipt_keys rk on rk.dedup_key = x.k
  join receipts r on r.id = rk.receipt_id and r.receipt_time = rk.receipt_time
 where not exists (select 1 from claimed where claimed.dedup_key = x.k)
   and r.processed_at is null`;

/**
 * Inserts new receipts; for keys already present returns those still unprocessed (so a re-push
 * after a failed enqueue enqueues them again) and omits those already processed (duplicates).
 * `arrivedAt` is the receipt_time of receipts without a time of their own. Callers must
 * de-duplicate `rows` by dedupKey first: one statement cannot touch a row twice.
 */
const JSONB_VERSION = Buffer.from([1]);
const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

/** `[a1,a2,…]` in jsonb's binary input format, or null when there is none. */
function jsonbArrayOf(arrays: Buffer[]): Buffer | null {
  if (arrays.length === 0) {
    return null;
  }
  const pieces: Buffer[] = [JSONB_VERSION, OPEN];
  arrays.forEach((a, i) => pieces.push(...(i > 0 ? [COMMA, a] : [a])));
  pieces.push(CLOSE);
  return Buffer.concat(pieces);
}

export async function insertReceipts(
  db: pg.Pool | pg.PoolClient,
  rows: readonly ReceiptRow[],
  arrivedAt: Date = new Date(),
): Promise<InsertedReceipt[]> {
  if (rows.length === 0) {
    return [];
  }
  // One JSON parameter instead of eight arrays: the bodies are already JSON text, so the rows
  // are concatenated rather than re-escaped element by element into array literals (which was
  // the largest pg cost on the push path's profile). Read as jsonb (jsonb_to_recordset), so
  // PostgreSQL parses each body once; json_to_recordset would lex it and then parse it again
  // for the jsonb column (≈ 4 µs of backend CPU per receipt more, measured).
  // Bodies that are elements of a push body's array go as that array's bytes, all such arrays
  // of the statement in one parameter (an array of arrays; row → "p" array, "i" element). It is
  // sent in jsonb's binary format (a version byte, then the JSON text), so the bytes are copied
  // once into the message, never turned into a JS string.
  const arrays = new Map<Buffer, number>();
  const parts = rows.map((r) => {
    const head =
      `{"k":${JSON.stringify(r.dedupKey)},"t":${JSON.stringify(r.messageType)},"s":"${r.source}",` +
      `"c":${JSON.stringify(r.callId)},"o":${JSON.stringify(r.outId)},"st":${JSON.stringify(r.statusCode)},` +
      `"e":${r.eventTime ? `"${isoTime(r.eventTime)}"` : "null"}`;
    if (r.bodyJson !== null || r.element === undefined) {
      return `${head},"b":${r.bodyJson ?? "null"}}`;
    }
    let p = arrays.get(r.element.array);
    if (p === undefined) {
      p = arrays.size;
      arrays.set(r.element.array, p);
    }
    return `${head},"p":${p},"i":${r.element.index}}`;
  });
  const { rows: out } = await db.query<{ id: string; dedup_key: string; inserted: boolean }>({
    name: "insert-receipts",
    text: INSERT_RECEIPTS,
    values: [`[${parts.join(",")}]`, arrivedAt.toISOString(), jsonbArrayOf([...arrays.keys()])],
  });
  return out.map((r) => ({ id: Number(r.id), dedupKey: r.dedup_key, inserted: r.inserted }));
}
