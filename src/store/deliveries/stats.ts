/**
 * Per-endpoint figures for the metrics gauges: the age of the oldest event still waiting to be
 * delivered there (pending deliveries, and events not fanned out yet, which wait for every
 * endpoint), and whether the endpoint is paused.
 */
import type pg from "pg";

export interface EndpointBacklog {
  endpoint: string;
  oldest_age_seconds: number | null;
  pending: number;
  paused: boolean;
}

export async function endpointBacklog(
  pool: pg.Pool,
  endpoints: readonly string[],
): Promise<EndpointBacklog[]> {
  const { rows } = await pool.query<EndpointBacklog>(
    `with unfanned as (select min(occurred_at) as t from events where fanned_out_at is null)
     select e.url as endpoint,
            extract(epoch from now() - least(p.oldest, (select t from unfanned)))::float8
              as oldest_age_seconds,
            coalesce(p.n, 0)::int as pending,
            coalesce(s.paused_at is not null, false) as paused
       from unnest($1::text[]) as e(url)
       left join lateral (select min(event_occurred_at) as oldest, count(*) as n from deliveries
                           where status = 'pending' and endpoint = e.url) p on true
       left join delivery_endpoints s on s.url = e.url`,
    [endpoints],
  );
  return rows;
}
