/**
 * `voice-receipts report <name> [arg] [--from D] [--to D] [--format table|csv|json]` (README
 * "Reports"). Every argument is checked before connecting (bad usage exits 2 with a message); the
 * rows come from the SQL report views, the output goes to stdout.
 */
import { loadConfig } from "../config.js";
import { createPool } from "../store/db.js";
import { formatResult, type OutputFormat } from "../report/format.js";
import { findReport, reportParams, runReport, type ReportResult } from "../report/reports.js";

export interface ReportCommandOptions {
  from?: string | undefined;
  to?: string | undefined;
  format?: OutputFormat;
}

export interface ReportIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
}

export async function reportCommand(
  name: string,
  arg: string | undefined,
  opts: ReportCommandOptions,
  io: ReportIo = { env: process.env, stdout: process.stdout },
): Promise<ReportResult> {
  const report = findReport(name);
  const params = reportParams(report, arg, opts);
  const config = loadConfig(io.env);
  const pool = createPool(config.databaseUrl, {
    max: 1,
    connectionTimeoutMillis: 5000,
    applicationName: "voice-receipts report",
  });
  try {
    const result = await runReport(pool, report, params);
    io.stdout.write(
      formatResult(result, opts.format ?? "table", {
        ...(report.percentColumns ? { percentColumns: report.percentColumns } : {}),
      }),
    );
    return result;
  } finally {
    await pool.end().catch(() => {});
  }
}
