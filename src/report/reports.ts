/**
 * The reports of `voice-receipts report`. Each one is a query over the SQL views and functions
 * of migrations/0002_report_views.sql and 0006_report_dimensions.sql, so psql gives the same
 * numbers; README ("Reports") shows every query.
 *
 * Over 300 lines on purpose: the catalogue of every report (name, arguments, filters, query) is
 * one table that is read as a whole; splitting it would scatter the list users see.
 */
import pg from "pg";

import { ConfigError } from "../errors.js";
import { DIRECTIONS, PRODUCTS, type Direction, type Product } from "../domain/callDimensions.js";
import { parseBeijingDate } from "../domain/time.js";
import { isNotMigrated } from "../store/pgErrors.js";

export interface ReportParams {
  /** Beijing dates `YYYY-MM-DD`, inclusive; null = unbounded. */
  from: string | null;
  to: string | null;
  /** out-id: the out_id. */
  arg: string | null;
  /** --direction / --product; null or absent = all. */
  direction?: Direction | null;
  product?: Product | null;
}

/** Which of --direction / --product a report takes (where the filter means something). */
export type Filters = "direction+product" | "product" | "none";

export interface ReportDefinition {
  name: string;
  description: string;
  /** `out-id <id>` takes an argument; the others take none. */
  argument?: string;
  /** The SQL and its parameters. */
  query(p: ReportParams): { text: string; values: unknown[] };
  /** Columns shown as percentages in the table format (they are fractions in csv/json). */
  percentColumns?: readonly string[];
  /** Default direction+product. */
  filters?: Filters;
}

const range = (p: ReportParams) => [p.from, p.to];
/** $1 from, $2 to, $3 direction, $4 product. */
const dims = (p: ReportParams) => [p.from, p.to, p.direction ?? null, p.product ?? null];

/** The query of a report that is one `report_*_between(from, to, direction, product)` function. */
const overDims =
  (columns: string, fn: string): ReportDefinition["query"] =>
  (p) => ({ text: `select ${columns}\n  from ${fn}($1::date, $2::date, $3, $4)`, values: dims(p) });

/**
 * The reconcile report: report_reconcile_between (migration 0002) with, after the statuses,
 * the skipped calls per calls.reconcile_skip_reason (policy, off, replay, inbound, unsupported; always
 * listed, like the statuses) and `(unrecorded)` for calls skipped before the reason was kept.
 * Computed here rather than in a new view so the report needs no migration of its own.
 */
const RECONCILE_REPORT = `
with base as (
  select t.kind, t.name, t.calls, t.ord
    from report_reconcile_between($1::date, $2::date, $3, $4)
           with ordinality as t(kind, name, calls, ord)
), skipped as (
  select coalesce(c.reconcile_skip_reason, '(unrecorded)') as reason
    from report_calls_between($1::date, $2::date, $3, $4) r join calls c on c.call_id = r.call_id
   where r.reconcile_status = 'skipped'
), reasons as (
  select s.ord, s.reason, count(k.reason)::int as calls
    from (values (1, 'policy'), (2, 'off'), (3, 'replay'), (4, 'inbound'), (5, 'unsupported'),
                (6, '(unrecorded)'))
           as s(ord, reason)
    left join skipped k on k.reason = s.reason
   group by s.ord, s.reason
)
select kind, name, calls from (
  select kind, name, calls, case when kind = 'reconcile_status' then 1 else 3 end as part, ord
    from base
  union all
  select 'skip_reason', reason, calls, 2, ord from reasons where ord < 6 or calls > 0
) x
order by part, ord`;

/**
 * The recordings report: one line per Beijing day of the call (else of arrival), each recording
 * counted once however many rows point at it (redeliveries), with the bytes stored.
 */
const RECORDINGS_REPORT = `
with rec as (
  select distinct on (call_id, split_part(record_file, '?', 1))
         (coalesce(start_time, received_at) at time zone 'Asia/Shanghai')::date as day,
         fetch_status, bytes
    from recordings
   order by call_id, split_part(record_file, '?', 1),
            (fetch_status = 'stored') desc, (fetch_status = 'pending') desc, id
)
select day,
       count(*) filter (where fetch_status = 'stored')::int as stored,
       count(*) filter (where fetch_status = 'pending')::int as pending,
       count(*) filter (where fetch_status = 'expired')::int as expired,
       count(*) filter (where fetch_status = 'failed')::int as failed,
       count(*) filter (where fetch_status = 'skipped')::int as skipped,
       coalesce(sum(bytes) filter (where fetch_status = 'stored'), 0)::bigint as bytes_stored
  from rec
 where ($1::date is null or day >= $1::date) and ($2::date is null or day <= $2::date)
 group by day
 order by day`;

export const REPORTS: readonly ReportDefinition[] = [
  {
    name: "daily",
    description:
      "per Beijing day: calls, answered, answer rate, talk seconds (total, average of answered), seizures, answer-seizure ratio, calls per busy hour, busiest hour",
    query: overDims(
      `day, calls, answered, answer_rate, total_talk_seconds, avg_talk_seconds,
                    seized, asr, calls_per_hour, peak_hour_calls`,
      "report_daily_between",
    ),
    percentColumns: ["answer_rate", "asr"],
  },
  {
    name: "hourly",
    description:
      "per Beijing day and hour: calls, answered, answer rate, answer-seizure ratio, average talk",
    query: overDims(
      `day, hour, calls, answered, answer_rate, asr, avg_talk_seconds`,
      "report_hourly_between",
    ),
    percentColumns: ["answer_rate", "asr"],
  },
  {
    name: "status",
    description: "calls per result code (inbound: from the call's events), with its meaning",
    query: overDims(`status_code, meaning, calls, share`, "report_status_between"),
    percentColumns: ["share"],
  },
  {
    name: "outcomes",
    description:
      "calls per outcome by carrier meaning (接通, 忙, 无人接听, 拒接, 空号, 停机, 关机, …)",
    query: overDims(`outcome, meaning, calls, share`, "report_outcomes_between"),
    percentColumns: ["share"],
  },
  {
    name: "numbers",
    description:
      "callees whose latest result says the number is dead (空号, 停机) or unreachable (关机, 无法接通): take them off call lists",
    query: (p) => ({
      text: `select callee, state, outcome, meaning, calls, dead_or_unreachable, last_call,
                    last_status_code
               from report_numbers_between($1::date, $2::date, $3)`,
      values: [p.from, p.to, p.product ?? null],
    }),
    filters: "product",
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
    filters: "none",
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
    filters: "none",
  },
  {
    name: "reconcile",
    description:
      "calls per reconcile_status, skipped calls per reason, and per field where receipt and call detail disagree",
    query: (p) => ({ text: RECONCILE_REPORT, values: dims(p) }),
  },
  {
    name: "dtmf",
    description: "key presses (VoiceCallReport 300000) per out_id prefix and key",
    query: overDims(`out_id_prefix, key, presses, calls`, "report_dtmf_between"),
  },
  {
    name: "recordings",
    description:
      "recordings per Beijing day: stored, pending, expired, failed, skipped (store off), bytes stored",
    query: (p) => ({ text: RECORDINGS_REPORT, values: range(p) }),
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

function oneOf<T extends string>(
  option: string,
  allowed: readonly T[],
  value: string | undefined,
): T | null {
  if (value === undefined) {
    return null;
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`report: ${option} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value as T;
}

/** Validates everything about a report invocation before any connection is made. */
export function reportParams(
  report: ReportDefinition,
  arg: string | undefined,
  opts: {
    from?: string | undefined;
    to?: string | undefined;
    direction?: string | undefined;
    product?: string | undefined;
  },
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
  const direction = oneOf("--direction", DIRECTIONS, opts.direction);
  const product = oneOf("--product", PRODUCTS, opts.product);
  const filters = report.filters ?? "direction+product";
  if (direction !== null && filters !== "direction+product") {
    throw new ConfigError(
      `report: ${report.name} does not take --direction${report.name === "numbers" ? " (it lists outbound callees)" : ""}`,
    );
  }
  if (product !== null && filters === "none") {
    throw new ConfigError(`report: ${report.name} does not take --product`);
  }
  return { from, to, arg: arg ?? null, direction, product };
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
