import fc from "fast-check";
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";

import {
  csvField,
  elide,
  formatCsv,
  formatJson,
  formatResult,
  formatTable,
  percent,
  UTF8_BOM,
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

describe("percentages, BOM and elision", () => {
  it("shows every percentage with two decimals, whole numbers too", () => {
    expect(percent(0.4)).toBe("40.00%");
    expect(percent(1)).toBe("100.00%");
    expect(percent(0)).toBe("0.00%");
    expect(percent(0.6667)).toBe("66.67%");
    const out = formatTable(
      { columns: ["rate"], rows: [{ rate: 0.5 }, { rate: 0.0035 }] },
      { percentColumns: ["rate"] },
    );
    expect(out).toContain("50.00%");
    expect(out).toContain("0.35%");
  });

  it("prefixes a UTF-8 BOM to CSV only when asked", () => {
    expect(formatCsv(STATUS).startsWith("status_code")).toBe(true);
    expect(formatCsv(STATUS, { bom: true })).toBe(`${UTF8_BOM}${formatCsv(STATUS)}`);
    expect(formatResult(STATUS, "csv", { bom: true }).charCodeAt(0)).toBe(0xfeff);
    expect(formatResult(STATUS, "json", { bom: true })).toBe(formatJson(STATUS));
  });

  it("elides to at most the width, keeping both ends, for any text (CJK included)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "Z", "9", "/", "用", "户", "听", "😀") }),
        fc.integer({ min: 2, max: 60 }),
        (text, width) => {
          const out = elide(text, width);
          if (stringWidth(text) <= width) {
            return out === text;
          }
          return (
            stringWidth(out) <= width &&
            out.includes("…") &&
            text.startsWith(out.split("…")[0]!) &&
            text.endsWith(out.split("…")[1]!)
          );
        },
      ),
    );
  });

  it("elides URLs in tables, never in CSV or JSON", () => {
    const url = `http://alicom-vms-record.oss-cn-hangzhou.aliyuncs.com/record/${"1".repeat(30)}.wav?Signature=abc`;
    const r: ReportResult = { columns: ["record_file"], rows: [{ record_file: url }] };
    expect(formatTable(r)).not.toContain(url);
    expect(formatTable(r)).toMatch(/http:\/\/alicom\S*…\S*Signature=abc/);
    expect(formatCsv(r)).toContain(url);
    expect(formatJson(r)).toContain(url);
  });

  it("fits a table to the terminal width, or prints one record per block when it cannot", () => {
    const wide: ReportResult = {
      columns: ["id", "note"],
      rows: [{ id: "a".repeat(50), note: "用".repeat(40) }],
    };
    const fitted = formatTable(wide, { maxWidth: 60 }).trimEnd().split("\n");
    expect(Math.max(...fitted.map((l) => stringWidth(l)))).toBeLessThanOrEqual(60);
    expect(fitted[0]).toMatch(/^┌/);
    const many: ReportResult = {
      columns: Array.from({ length: 12 }, (_, i) => `column_${i}`),
      rows: [
        Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`column_${i}`, `value-${i}`])),
      ],
    };
    const expanded = formatTable(many, { maxWidth: 40 });
    expect(expanded).toContain("column_11 │ value-11");
    expect(
      Math.max(
        ...expanded
          .trimEnd()
          .split("\n")
          .map((l) => stringWidth(l)),
      ),
    ).toBeLessThanOrEqual(40);
  });
});
