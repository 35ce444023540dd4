/**
 * SQL shared by the explorer's read queries (src/store/explorer/): the call's time and product,
 * Beijing days, numbered parameters and keyset pages. Reads only; nothing here writes.
 */

/**
 * The call's time: the instant report_calls (migrations/0002_report_views.sql) takes the call's
 * day from. calls_explorer_time_idx (0007_explorer.sql) is on exactly this expression, so the
 * text must stay identical for the planner to use the index.
 */
export const CALL_TIME =
  "coalesce(c.start_time, c.end_time, c.originate_time, c.ring_time, c.last_event_time, c.created_at)";

/**
 * The conditions that keep `time` within the Beijing calendar days `YYYY-MM-DD` (inclusive) of
 * the range: from the first instant of fromDay to before the first instant after toDay.
 */
export function dayRange(
  time: string,
  range: { fromDay?: string; toDay?: string },
  p: (value: unknown) => string,
): string[] {
  const where: string[] = [];
  if (range.fromDay !== undefined) {
    where.push(`${time} >= ((${p(range.fromDay)}::date)::timestamp at time zone 'Asia/Shanghai')`);
  }
  if (range.toDay !== undefined) {
    where.push(`${time} < ((${p(range.toDay)}::date + 1)::timestamp at time zone 'Asia/Shanghai')`);
  }
  return where;
}

/**
 * A call's product. Nothing in a receipt names it: robot tasks are known by their out_id
 * (`ALICOM_SMART_SAAS^…`), inbound calls by their direction, the rest by the ProdId that
 * QueryCallDetailByCallId answered for (README "Call explorer" lists the mapping), so an
 * outbound call that is not reconciled yet has no product (NULL).
 */
export const PRODUCT_SQL = `(case
  when c.direction = 'inbound' then 'inbound'
  when starts_with(c.out_id, 'ALICOM_SMART_SAAS^') then 'robot'
  when c.prod_id = '11000000300006' then 'notification'
  when c.prod_id = '11010000138001' then 'verification'
  when c.prod_id = '11000000300005' then 'ivr'
  when c.prod_id = '11030000180001' then 'smart'
end)`;

/** A function that adds a value to `values` and answers its placeholder (`$1`, `$2`, …). */
export function placeholders(values: unknown[]): (value: unknown) => string {
  return (value) => {
    values.push(value);
    return `$${values.length}`;
  };
}

/**
 * One page of a keyset listing read with `pageSize + 1` rows: the extra row only says that a
 * next page exists, whose cursor is made from this page's last row.
 */
export function keysetPage<Row, Cursor>(
  rows: Row[],
  pageSize: number,
  cursorOf: (last: Row) => Cursor,
): { rows: Row[]; next: Cursor | undefined } {
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > pageSize && last ? cursorOf(last) : undefined };
}
