import stringWidth from "string-width";
import { describe, expect, it } from "vitest";

import {
  csvField,
  formatCsv,
  formatJson,
  formatResult,
  formatTable,
} from "../../../src/report/format.js";
import type { ReportResult } from "../../../src/report/reports.js";
import { parseCsv } from "./parseCsv.js";

const STATUS: ReportResult = {
  columns: ["status_code", "meaning", "calls", "share"],
  rows: [
    { status_code: "200000", meaning: "用户听完语音", calls: 1234, share: 0.6171 },
    { status_code: "200007", meaning: "用户无法接通(不在服务区)", calls: 7, share: 0.0035 },
    { status_code: null, meaning: "(no call result yet)", calls: 759, share: 0.3795 },
  ],
};

describe("csvField", () => {
  it("quotes only fields with a quote, comma, CR or LF, doubling quotes (RFC 4180)", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("用户听完语音")).toBe("用户听完语音");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\r")).toBe('"cr\r"');
    expect(csvField(12.5)).toBe("12.5");
    expect(csvField(null)).toBe("");
  });
});

describe("formatCsv", () => {
  it("writes a header and CRLF-terminated rows that parse back to the values", () => {
    const tricky: ReportResult = {
      columns: ["name", "note"],
      rows: [{ name: 'x,"y"', note: "line1\r\nline2" }],
    };
    const text = formatCsv(tricky);
    expect(text.endsWith("\r\n")).toBe(true);
    expect(parseCsv(text)).toEqual([
      ["name", "note"],
      ['x,"y"', "line1\r\nline2"],
    ]);
    expect(parseCsv(formatCsv(STATUS))).toEqual([
      ["status_code", "meaning", "calls", "share"],
      ["200000", "用户听完语音", "1234", "0.6171"],
      ["200007", "用户无法接通(不在服务区)", "7", "0.0035"],
      ["", "(no call result yet)", "759", "0.3795"],
    ]);
  });
});

describe("formatJson", () => {
  it("writes an array of objects with typed values", () => {
    expect(JSON.parse(formatJson(STATUS))).toEqual(STATUS.rows);
    expect(JSON.parse(formatJson({ columns: ["a"], rows: [] }))).toEqual([]);
  });
});

describe("formatTable", () => {
  const lines = (text: string) => text.trimEnd().split("\n");

  it("aligns columns by display width, CJK characters counting two", () => {
    const out = lines(formatTable(STATUS, { percentColumns: ["share"] }));
    const widths = new Set(out.map((l) => stringWidth(l)));
    expect(widths.size).toBe(1);
    // Each column border sits at the same display position on every line.
    const borders = (l: string) => {
      const at: number[] = [];
      let w = 0;
      for (const ch of l) {
        if ("│┼┬┴├┤┌┐└┘".includes(ch)) {
          at.push(w);
        }
        w += stringWidth(ch);
      }
      return at.join(",");
    };
    expect(new Set(out.map(borders)).size).toBe(1);
  });

  it("shows fractions as percentages, right-aligns numbers and leaves NULL empty", () => {
    const out = formatTable(STATUS, { percentColumns: ["share"] });
    expect(out).toContain("61.71%");
    expect(out).toContain("0.35%");
    expect(out).toMatch(/│\s+1234 │/);
    expect(out).toMatch(/│\s+7 │/);
    expect(out).not.toContain("null");
    expect(out).not.toContain("\u001b["); // no colours
  });

  it("says so when there are no rows", () => {
    expect(formatTable({ columns: ["day", "calls"], rows: [] })).toMatch(/\(no rows\)\n$/);
  });

  it("is picked by formatResult", () => {
    expect(formatResult(STATUS, "json")).toBe(formatJson(STATUS));
    expect(formatResult(STATUS, "csv")).toBe(formatCsv(STATUS));
    expect(formatResult(STATUS, "table")).toBe(formatTable(STATUS));
  });
});
