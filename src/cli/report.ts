/**
 * `voice-receipts report <name> [arg] [--from D] [--to D] [--direction X] [--product Y]
 * [--format table|csv|json] [--bom]`. Every argument is checked before connecting (bad usage
 * exits 2 with a message); the rows come from the SQL report views, the output goes to stdout.
 * A table on a terminal is fitted to its width.
 */
import { ConfigError } from "../errors.js";
import { formatResult, type OutputFormat } from "../report/format.js";
import { findReport, reportParams, runReport, type ReportResult } from "../report/reports.js";
import { withPool } from "./withPool.js";

export interface ReportCommandOptions {
  from?: string | undefined;
  to?: string | undefined;
  direction?: string | undefined;
  product?: string | undefined;
  format?: OutputFormat;
  /** CSV: prefix a UTF-8 byte order mark (for Excel). */
  bom?: boolean | undefined;
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
  if (opts.bom === true && (opts.format ?? "table") !== "csv") {
    throw new ConfigError("report: --bom applies to --format csv only");
  }
  return withPool(io.env, { max: 1, applicationName: "voice-receipts report" }, async (pool) => {
    const result = await runReport(pool, report, params);
    io.stdout.write(
      formatResult(result, opts.format ?? "table", {
        ...(report.percentColumns ? { percentColumns: report.percentColumns } : {}),
        maxWidth: terminalWidth(io.stdout),
        bom: opts.bom,
      }),
    );
    return result;
  });
}

/** The width of the terminal stdout is, or undefined when it is a file or a pipe. */
function terminalWidth(stream: NodeJS.WritableStream): number | undefined {
  const tty = stream as { isTTY?: boolean; columns?: number };
  return tty.isTTY === true && typeof tty.columns === "number" && tty.columns > 0
    ? tty.columns
    : undefined;
}
