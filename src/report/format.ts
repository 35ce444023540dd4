/**
 * Output formats of `report`: an aligned table for people (Chinese meanings are two columns wide
 * on a terminal; cli-table3 measures with string-width), CSV (RFC 4180) and JSON for programs.
 * Tables elide long values (URLs always, anything when a terminal width is given); CSV and JSON
 * always carry every value whole. Pure.
 */
import Table from "cli-table3";
import stringWidth from "string-width";

import type { Cell, ReportResult } from "./reports.js";

export type OutputFormat = "table" | "csv" | "json";

export interface FormatOptions {
  /** Columns holding fractions shown as percentages in the table. */
  percentColumns?: readonly string[];
  /** Table: the terminal's width; wide text columns are elided to fit. */
  maxWidth?: number | undefined;
  /** CSV: start with a UTF-8 byte order mark, so Excel reads the file as UTF-8. */
  bom?: boolean | undefined;
}

/** The UTF-8 byte order mark: how Excel tells a UTF-8 CSV from one in the local code page. */
export const UTF8_BOM = "\uFEFF";

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

/** CSV: a header line, then one line per row, CRLF line ends (RFC 4180); `bom` prefixes U+FEFF. */
export function formatCsv(
  result: ReportResult,
  options: { bom?: boolean | undefined } = {},
): string {
  const lines = [result.columns.map(csvField).join(",")];
  for (const row of result.rows) {
    lines.push(result.columns.map((c) => csvField(row[c] ?? null)).join(","));
  }
  return `${options.bom === true ? UTF8_BOM : ""}${lines.join("\r\n")}\r\n`;
}

/** Every percentage in one format: two decimals (rates are stored to 4 places, 0.6667). */
export function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

/** A value cut to `width` display columns by an ellipsis in the middle (both ends stay readable). */
export function elide(text: string, width: number): string {
  if (stringWidth(text) <= width) {
    return text;
  }
  const chars = [...text];
  const budget = Math.max(2, width) - 1;
  const headBudget = Math.ceil(budget * 0.6);
  let head = "";
  let used = 0;
  for (const ch of chars) {
    const w = stringWidth(ch);
    if (used + w > headBudget) {
      break;
    }
    head += ch;
    used += w;
  }
  let tail = "";
  let tailUsed = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const w = stringWidth(chars[i]!);
    if (used + tailUsed + w > budget) {
      break;
    }
    tail = chars[i]! + tail;
    tailUsed += w;
  }
  return `${head}…${tail}`;
}

/** URLs longer than this are elided in tables whatever the width (a signed OSS URL is ~200). */
export const TABLE_URL_WIDTH = 40;
/** Elision never cuts a column below this. */
const MIN_COLUMN_WIDTH = 12;

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
  const cells = result.rows.map((row) =>
    result.columns.map((c) => {
      const text = tableCell(row[c] ?? null, percentColumns.has(c));
      return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? elide(text, TABLE_URL_WIDTH) : text;
    }),
  );
  let shown = cells;
  if (options.maxWidth !== undefined) {
    shown = cells.map((row) => [...row]);
    if (!fitWidth(result.columns, shown, numeric, options.maxWidth)) {
      return formatExpanded(result, cells, options.maxWidth);
    }
  }
  const table = new Table({
    head: result.columns,
    style: { head: [], border: [], compact: true },
    colAligns: numeric.map((n) => (n ? "right" : "left")),
  });
  for (const row of shown) {
    table.push(row);
  }
  const out = table.toString();
  return result.rows.length === 0 ? `${out}\n(no rows)\n` : `${out}\n`;
}

/**
 * Elides the widest text columns (never numbers, never below MIN_COLUMN_WIDTH or the header)
 * until the table, borders and padding included, is at most `maxWidth` columns wide; false
 * when even that is too wide.
 */
function fitWidth(
  columns: string[],
  cells: string[][],
  numeric: boolean[],
  maxWidth: number,
): boolean {
  const widthOf = (i: number) =>
    Math.max(stringWidth(columns[i]!), ...cells.map((row) => stringWidth(row[i]!)));
  const widths = columns.map((_, i) => widthOf(i));
  // "│ a │ b │": each column has a space either side and one border after it, plus the first.
  const total = () => widths.reduce((a, w) => a + w + 3, 1);
  for (;;) {
    const excess = total() - maxWidth;
    if (excess <= 0) {
      return true;
    }
    const floor = (i: number) => Math.max(MIN_COLUMN_WIDTH, stringWidth(columns[i]!));
    const candidates = widths
      .map((w, i) => ({ i, w }))
      .filter(({ i, w }) => !numeric[i] && w > floor(i))
      .sort((a, b) => b.w - a.w);
    const widest = candidates[0];
    if (widest === undefined) {
      return false;
    }
    const next = candidates[1]?.w ?? 0;
    const target = Math.max(floor(widest.i), widest.w - excess, Math.min(next, widest.w - 1));
    for (const row of cells) {
      row[widest.i] = elide(row[widest.i]!, target);
    }
    widths[widest.i] = widthOf(widest.i);
  }
}

/**
 * A table too wide for the terminal even elided (out-id has eleven columns) is printed one
 * record per block, a column per line, like psql's expanded mode (\\x): always fits.
 */
function formatExpanded(result: ReportResult, cells: string[][], maxWidth: number): string {
  const label = Math.max(...result.columns.map((c) => stringWidth(c)));
  const valueWidth = Math.max(MIN_COLUMN_WIDTH, maxWidth - label - 3);
  const blocks = cells.map((row, n) => {
    const title = `-[ record ${n + 1} ]`;
    const lines = result.columns.map(
      (c, i) => `${c}${" ".repeat(label - stringWidth(c))} │ ${elide(row[i]!, valueWidth)}`,
    );
    return [
      `${title}${"-".repeat(Math.max(0, Math.min(maxWidth, label + 3 + valueWidth) - title.length))}`,
      ...lines,
    ].join("\n");
  });
  return blocks.length === 0 ? "(no rows)\n" : `${blocks.join("\n")}\n`;
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
      return formatCsv(result, { bom: options.bom });
    case "table":
      return formatTable(result, options);
  }
}
