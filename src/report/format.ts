/**
 * Output formats of `report`: an aligned table for people (Chinese meanings are two columns wide
 * on a terminal; cli-table3 measures with string-width), CSV (RFC 4180) and JSON for programs.
 * Pure.
 */
import Table from "cli-table3";

import type { Cell, ReportResult } from "./reports.js";

export type OutputFormat = "table" | "csv" | "json";

export interface FormatOptions {
  /** Columns holding fractions shown as percentages in the table. */
  percentColumns?: readonly string[];
}

/** JSON: an array of objects, one per row, with the columns in order. */
export function formatJson(result: ReportResult): string {
  return `${JSON.stringify(result.rows, null, 2)}\n`;
}

/** One CSV field (RFC 4180 §2): quoted when it holds a quote, comma, CR or LF; quotes doubled. */
export function csvField(value: Cell): string {
  if (value === null) {
    return "";
  }
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV: a header line, then one line per row, CRLF line ends (RFC 4180). */
export function formatCsv(result: ReportResult): string {
  const lines = [result.columns.map(csvField).join(",")];
  for (const row of result.rows) {
    lines.push(result.columns.map((c) => csvField(row[c] ?? null)).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

function percent(value: number): string {
  const p = value * 100;
  return `${Number.isInteger(p) ? p : p.toFixed(2)}%`;
}

function tableCell(value: Cell, asPercent: boolean): string {
  if (value === null) {
    return "";
  }
  if (asPercent && typeof value === "number") {
    return percent(value);
  }
  return String(value);
}

/**
 * A boxed table without colours (it is often piped or redirected). Numbers are right-aligned;
 * wide (CJK) characters count as two columns, so the boxes line up on a terminal.
 */
export function formatTable(result: ReportResult, options: FormatOptions = {}): string {
  const percentColumns = new Set(options.percentColumns ?? []);
  const numeric = result.columns.map((c) =>
    result.rows.some((r) => typeof r[c] === "number")
      ? result.rows.every((r) => r[c] === null || typeof r[c] === "number")
      : false,
  );
  const table = new Table({
    head: result.columns,
    style: { head: [], border: [], compact: true },
    colAligns: numeric.map((n) => (n ? "right" : "left")),
  });
  for (const row of result.rows) {
    table.push(result.columns.map((c) => tableCell(row[c] ?? null, percentColumns.has(c))));
  }
  const out = table.toString();
  return result.rows.length === 0 ? `${out}\n(no rows)\n` : `${out}\n`;
}

export function formatResult(
  result: ReportResult,
  format: OutputFormat,
  options: FormatOptions = {},
): string {
  switch (format) {
    case "json":
      return formatJson(result);
    case "csv":
      return formatCsv(result);
    case "table":
      return formatTable(result, options);
  }
}
