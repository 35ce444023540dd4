/**
 * The reports of `voice-receipts report` (CONTRACT §6). Each one is a query over the SQL views
 * and functions of migrations/0002_report_views.sql, so psql gives the same numbers; README
 * ("Reports") shows every query.
 */
import pg from "pg";

import { ConfigError } from "../errors.js";
import { parseBeijingDate } from "../domain/time.js";
import { isNotMigrated } from "../store/pgErrors.js";

export interface ReportParams {
  /** Beijing dates `YYYY-MM-DD`, inclusive; null = unbounded. */
  from: string | null;
  to: string | null;
  /** out-id: the out_id. */
  arg: string | null;
}

export interface ReportDefinition {
  name: string;
  description: string;
  /** `out-id <id>` takes an argument; the others take none. */
  argument?: string;
  /** The SQL and its parameters. */
  query(p: ReportParams): { text: string; values: unknown[] };
  /** Columns shown as percentages in the table format (they are fractions in csv/json). */
  percentColumns?: readonly string[];
}

const range = (p: ReportParams) => [p.from, p.to];

/**
 * The reconcile report: report_reconcile_between (migration 0002) with, after the statuses,
 * the skipped calls per calls.reconcile_skip_reason (policy, off, replay, inbound; always
 * listed, like the statuses) and `(unrecorded)` for calls skipped before the reason was kept.
 * Computed here rather than in a new view so the report needs no migration of its own.
 */
const RECONCILE_REPORT = `
with base as (
  select t.kind, t.name, t.calls, t.ord
    from report_reconcile_between($1::date, $2::date) with ordinality as t(kind, name, calls, ord)
), skipped as (
  select coalesce(c.reconcile_skip_reason, '(unrecorded)') as reason
    from report_calls r join calls c on c.call_id = r.call_id
   where r.reconcile_status = 'skipped'
     and ($1::date is null or r.day >= $1::date) and ($2::date is null or r.day <= $2::date)
), reasons as (
  select s.ord, s.reason, count(k.reason)::int as calls
    from (values (1, 'policy'), (2, 'off'), (3, 'replay'), (4, 'inbound'), (5, '(unrecorded)'))
           as s(ord, reason)
    left join skipped k on k.reason = s.reason
   group by s.ord, s.reason
)
select kind, name, calls from (
  select kind, name, calls, case when kind = 'reconcile_status' then 1 else 3 end as part, ord
    from base
  union all
  select 'skip_reason', reason, calls, 2, ord from reasons where ord < 5 or calls > 0
) x
order by part, ord`;

export const REPORTS: readonly ReportDefinition[] = [
  {
    name: "daily",
    description: "calls, answered, answer rate, total and average talk seconds per Beijing day",
    query: (p) => ({
      text: `select day, calls, answered, answer_rate, total_talk_seconds, avg_talk_seconds
               from report_daily
              where ($1::date is null or day >= $1::date) and ($2::date is null or day <= $2::date)
              order by day`,
      values: range(p),
    }),
    percentColumns: ["answer_rate"],
  },
  {
    name: "status",
    description: "calls per status code, with its meaning",
    query: (p) => ({
      text: `select status_code, meaning, calls, share
               from report_status_between($1::date, $2::date)`,
      values: range(p),
    }),
    percentColumns: ["share"],
  },
  {
    name: "out-id",
    argument: "out_id",
    description: "every call of one out_id, with its events and recordings",
    query: (p) => ({
      text: `select call_id, kind, time, status_code, meaning, smart_status_code, dtmf,
                    duration_seconds, reconcile_status, callee, record_file
               from report_out_id
              where out_id = $3
                and ($1::date is null or day >= $1::date) and ($2::date is null or day <= $2::date)
              order by min(time) over (partition by call_id), call_id, kind, time, status_code`,
      values: [...range(p), p.arg],
    }),
  },
  {
    name: "robot-tasks",
    description:
      "per ALICOM_SMART_SAAS^<task> batch: dialled, answered, answer rate, total and average talk seconds",
    query: (p) => ({
      text: `select task_id, dialled, answered, answer_rate, total_talk_seconds, avg_talk_seconds,
                    first_day, last_day
               from report_robot_tasks_between($1::date, $2::date)`,
      values: range(p),
    }),
    percentColumns: ["answer_rate"],
  },
  {
    name: "reconcile",
    description:
      "calls per reconcile_status, skipped calls per reason, and per field where receipt and call detail disagree",
    query: (p) => ({ text: RECONCILE_REPORT, values: range(p) }),
  },
  {
    name: "dtmf",
    description: "key presses (VoiceCallReport 300000) per out_id prefix and key",
    query: (p) => ({
      text: `select out_id_prefix, key, presses, calls from report_dtmf_between($1::date, $2::date)`,
      values: range(p),
    }),
  },
];

export const REPORT_NAMES: readonly string[] = REPORTS.map((r) => r.name);

export function findReport(name: string): ReportDefinition {
  const report = REPORTS.find((r) => r.name === name);
  if (!report) {
    throw new ConfigError(
      `report: unknown report "${name}"; the reports are: ${REPORTS.map((r) => (r.argument ? `${r.name} <${r.argument}>` : r.name)).join(", ")}`,
    );
  }
  return report;
}

/** A --from/--to value: a real Beijing calendar date `YYYY-MM-DD`, or a usage error naming the option. */
export function parseDateOption(
  option: "--from" | "--to",
  value: string | undefined,
): string | null {
  if (value === undefined) {
    return null;
  }
  const parsed = parseBeijingDate(value);
  if (!parsed.ok || value.trim() !== value) {
    throw new ConfigError(
      `report: ${option} must be a date YYYY-MM-DD (Beijing calendar day), got "${value}"${parsed.ok ? "" : `: ${parsed.reason}`}`,
    );
  }
  return value;
}

/** Validates everything about a report invocation before any connection is made. */
export function reportParams(
  report: ReportDefinition,
  arg: string | undefined,
  opts: { from?: string | undefined; to?: string | undefined },
): ReportParams {
  if (report.argument && (arg === undefined || arg === "")) {
    throw new ConfigError(
      `report: ${report.name} needs an argument: report ${report.name} <${report.argument}>`,
    );
  }
  if (!report.argument && arg !== undefined) {
    throw new ConfigError(`report: ${report.name} takes no argument, got "${arg}"`);
  }
  const from = parseDateOption("--from", opts.from);
  const to = parseDateOption("--to", opts.to);
  if (from !== null && to !== null && from > to) {
    throw new ConfigError(`report: --from ${from} is after --to ${to}`);
  }
  return { from, to, arg: arg ?? null };
}

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface ReportResult {
  columns: string[];
  rows: Row[];
}

const { builtins } = pg.types;

/**
 * Column values as JSON wants them: bigint and numeric as numbers (counts and rates here are
 * far below 2^53), dates as the `YYYY-MM-DD` text PostgreSQL gives (never a JS Date at local
 * midnight).
 */
const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === builtins.INT8 || oid === builtins.NUMERIC) {
      return (v: string) => Number(v);
    }
    if (oid === builtins.DATE) {
      return (v: string) => v;
    }
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

export async function runReport(
  pool: pg.Pool,
  report: ReportDefinition,
  params: ReportParams,
): Promise<ReportResult> {
  const { text, values } = report.query(params);
  try {
    const res = await pool.query<Row>({ text, values, types: TYPES });
    return { columns: res.fields.map((f) => f.name), rows: res.rows };
  } catch (err) {
    if (isNotMigrated(err)) {
      throw new ConfigError(
        `report: the database has no report views (${(err as Error).message}); run \`voice-receipts migrate\` first`,
      );
    }
    throw err;
  }
}
