/**
 * Calls and answered calls per Beijing hour of one day, for the overview's hourly chart. The
 * report views have no hour, so this groups report_calls (the view every report reads: the same
 * `answered`, the same day) by the hour of the call's time, the instant its day comes from; the
 * hours of a day add up to that day's row of `report daily` (test/integration/uiOverview.test.ts).
 * Reads only.
 */
import type pg from "pg";

import { CALL_TIME, dayEnd, dayStart } from "./callTime.js";

export interface HourRow {
  hour: number;
  calls: number;
  answered: number;
}

export async function callsPerHour(pool: pg.Pool, day: string): Promise<HourRow[]> {
  const { rows } = await pool.query<HourRow>(
    `select extract(hour from ${CALL_TIME} at time zone 'Asia/Shanghai')::int as hour,
            count(*)::int as calls, (count(*) filter (where r.answered))::int as answered
       from calls c
       join report_calls r on r.call_id = c.call_id
      where ${CALL_TIME} >= ${dayStart("$1")} and ${CALL_TIME} < ${dayEnd("$1")}
      group by 1 order by 1`,
    [day],
  );
  return rows;
}
