/**
 * Calls and answered calls per Beijing hour of one day, for the overview's hourly chart. The
 * report views have no hour, so this groups report_calls (the view every report reads: the same
 * day, the same `answered`) by the hour of the instant the call's day comes from (CALL_TIME).
 * The hours of a day therefore add up to that day's row of `report daily`
 * (test/integration/ui/explorer.test.ts). calls_report_day_idx (0007_explorer.sql) finds the
 * day's rows; the time is read per row by primary key (OFFSET 0 keeps the planner from turning
 * that into a join that reads all calls). Reads only.
 */
import type pg from "pg";

import { CALL_TIME } from "./callTime.js";

export interface HourRow {
  hour: number | null;
  calls: number;
  answered: number;
}

/** $1: the Beijing day `YYYY-MM-DD`. */
export const HOURLY_QUERY = `
select extract(hour from x.t at time zone 'Asia/Shanghai')::int as hour,
       count(*)::int as calls, (count(*) filter (where r.answered))::int as answered
  from report_calls r
 cross join lateral (select ${CALL_TIME} as t from calls c where c.call_id = r.call_id offset 0) x
 where r.day = $1::date
 group by 1 order by 1 nulls last`;

export async function callsPerHour(pool: pg.Pool, day: string): Promise<HourRow[]> {
  return (await pool.query<HourRow>(HOURLY_QUERY, [day])).rows;
}
