/**
 * Alibaba's receipt times are `yyyy-MM-dd HH:mm:ss` with no zone; they are Beijing local time
 * (Asia/Shanghai, UTC+8, no daylight saving since 1991), see docs/alibaba.md §1.5. We convert with
 * a fixed offset instead of Intl/tz data: it is exact for every date the service can produce and
 * keeps this module pure and independent of the host's time zone and ICU build.
 */

/** Durations in milliseconds, for the whole program. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY_MS = 24 * HOUR;

export const BEIJING_OFFSET_MS = 8 * HOUR;
export const ALIBABA_TIME_FORMAT = "yyyy-MM-dd HH:mm:ss";

export type TimeParseResult = { ok: true; value: Date } | { ok: false; reason: string };

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; setUTCFullYear avoids Date.UTC's
  // "years 0-99 mean 1900-1999" rule.
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}

function checkParts(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): string | null {
  if (y < 1) {
    return `year ${y} is out of range`;
  }
  if (mo < 1 || mo > 12) {
    return `month ${mo} does not exist`;
  }
  if (d < 1 || d > daysInMonth(y, mo)) {
    return `day ${d} does not exist in ${pad(y, 4)}-${pad(mo)}`;
  }
  if (h > 23 || mi > 59 || s > 59) {
    return `time of day ${pad(h)}:${pad(mi)}:${pad(s)} is out of range`;
  }
  return null;
}

/**
 * Strict parse of `yyyy-MM-dd HH:mm:ss` (Beijing time) into an instant. Surrounding whitespace
 * is ignored; any other shape (ISO `T`, fractions, zones, one-digit fields) and impossible dates
 * (2023-02-30, 24:00:00) fail, so a malformed receipt is quarantined instead of stored wrong.
 */
export function parseBeijingTime(text: string): TimeParseResult {
  // The same few timestamps repeat across a batch (a call's events, a push of one minute's
  // calls); remembering recent answers takes this off the push path's profile.
  const cached = recent.get(text);
  if (cached !== undefined) {
    return { ok: true, value: new Date(cached) };
  }
  const result = parseUncached(text);
  if (result.ok) {
    if (recent.size >= RECENT_MAX) {
      recent.clear();
    }
    recent.set(text, result.value.getTime());
  }
  return result;
}

const RECENT_MAX = 4096;
const recent = new Map<string, number>();

function parseUncached(text: string): TimeParseResult {
  const m = DATE_TIME.exec(text.trim());
  if (!m) {
    return { ok: false, reason: `expected ${ALIBABA_TIME_FORMAT}` };
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const problem = checkParts(y, mo, d, h, mi, s);
  if (problem !== null) {
    return { ok: false, reason: problem };
  }
  return { ok: true, value: new Date(utcMs(y, mo, d, h, mi, s) - BEIJING_OFFSET_MS) };
}

/**
 * The years a receipt time may fall in. Voice Service started long after 2000, and PostgreSQL
 * (year 0 does not exist there; partitions are by month) or a report would choke on what lies
 * far outside; a receipt time outside this range is a broken upstream clock, refused alone.
 */
export const RECEIPT_YEAR_MIN = 2000;
export const RECEIPT_YEAR_MAX = 2100;

/** The first instant of RECEIPT_YEAR_MIN and of the year after RECEIPT_YEAR_MAX, Beijing time. */
const RECEIPT_MS_MIN = Date.UTC(RECEIPT_YEAR_MIN, 0, 1) - BEIJING_OFFSET_MS;
const RECEIPT_MS_END = Date.UTC(RECEIPT_YEAR_MAX + 1, 0, 1) - BEIJING_OFFSET_MS;

/** Why `date` (a parsed receipt time) is out of range, or null. Judged on the Beijing year. */
export function receiptYearProblem(date: Date): string | null {
  // Runs for every time field of every receipt: in range is two comparisons, no Date made.
  const ms = date.getTime();
  if (ms >= RECEIPT_MS_MIN && ms < RECEIPT_MS_END) {
    return null;
  }
  const year = new Date(ms + BEIJING_OFFSET_MS).getUTCFullYear();
  return year >= RECEIPT_YEAR_MIN && year <= RECEIPT_YEAR_MAX
    ? null
    : `year ${year} is outside ${RECEIPT_YEAR_MIN}–${RECEIPT_YEAR_MAX}`;
}

/** Strict parse of a Beijing calendar day `yyyy-MM-dd` into the instant it starts (00:00 +08). */
export function parseBeijingDate(text: string): TimeParseResult {
  const m = DATE_ONLY.exec(text.trim());
  if (!m) {
    return { ok: false, reason: "expected yyyy-MM-dd" };
  }
  const [y, mo, d] = m.slice(1).map(Number) as [number, number, number];
  const problem = checkParts(y, mo, d);
  if (problem !== null) {
    return { ok: false, reason: problem };
  }
  return { ok: true, value: new Date(utcMs(y, mo, d, 0, 0, 0) - BEIJING_OFFSET_MS) };
}

function beijingParts(date: Date): Date {
  const t = date.getTime();
  if (!Number.isFinite(t)) {
    throw new RangeError("Invalid Date");
  }
  // A Date shifted by +8 h whose UTC fields read as Beijing wall-clock fields.
  return new Date(t + BEIJING_OFFSET_MS);
}

/** `yyyy-MM-dd` of the Beijing calendar day containing `date`. Throws on an invalid Date. */
export function formatBeijingDate(date: Date): string {
  const b = beijingParts(date);
  return `${pad(b.getUTCFullYear(), 4)}-${pad(b.getUTCMonth() + 1)}-${pad(b.getUTCDate())}`;
}

/** `date` in Alibaba's `yyyy-MM-dd HH:mm:ss` Beijing form. Throws on an invalid Date. */
export function formatBeijingTime(date: Date): string {
  const b = beijingParts(date);
  return `${formatBeijingDate(date)} ${pad(b.getUTCHours())}:${pad(b.getUTCMinutes())}:${pad(b.getUTCSeconds())}`;
}

/**
 * Epoch ms of 00:00 Beijing time on the day containing `date`. QueryCallDetailByCallId wants a
 * QueryDate on the call's Beijing day (docs/alibaba.md §4.1); reports group by it.
 */
export function beijingDay(date: Date): number {
  const t = beijingParts(date).getTime();
  return Math.floor(t / DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
}

/** Epoch ms of 00:00 Beijing time on the day after the one containing `date`. */
export function nextBeijingDay(date: Date): number {
  return beijingDay(date) + DAY_MS;
}
