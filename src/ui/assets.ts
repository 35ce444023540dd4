/**
 * The explorer's static files, all served from this process (no CDN: the UI works offline):
 * uPlot's build from node_modules, the stylesheet and the overview's chart script from here.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** name → [content type, loader]; files are read once, on first use. */
const FILES: Record<string, [string, () => Promise<string>]> = {
  "uplot.js": [
    "text/javascript; charset=utf-8",
    () => readFile(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
  ],
  "uplot.css": [
    "text/css; charset=utf-8",
    () => readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
  ],
  "ui.css": ["text/css; charset=utf-8", async () => STYLE],
  "overview.js": ["text/javascript; charset=utf-8", async () => OVERVIEW_SCRIPT],
};

const cache = new Map<string, Promise<string>>();

export function asset(name: string): { type: string; body: Promise<string> } | undefined {
  const file = Object.prototype.hasOwnProperty.call(FILES, name) ? FILES[name] : undefined;
  if (!file) {
    return undefined;
  }
  let body = cache.get(name);
  if (!body) {
    body = file[1]();
    cache.set(name, body);
  }
  return { type: file[0], body };
}

const STYLE = `
:root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2733; }
body { margin: 0; }
header { display: flex; gap: 24px; align-items: center; padding: 10px 20px; background: #1d2733; color: #fff; }
header nav { display: flex; gap: 16px; flex: 1; }
header a { color: #cfe3ff; text-decoration: none; }
header a[aria-current] { color: #fff; border-bottom: 2px solid #fff; }
main { padding: 8px 20px 40px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e7ec; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, monospace; font-size: 12px; }
pre { background: #f6f8fa; padding: 8px; max-width: 900px; overflow: auto; white-space: pre-wrap; }
form.search { display: grid; grid-template-columns: repeat(5, minmax(140px, 1fr)); gap: 8px 12px; max-width: 1100px; }
form.search label { display: flex; flex-direction: column; font-size: 12px; color: #52606d; }
form.search .actions { grid-column: 1 / -1; }
input, select, button { font: inherit; padding: 3px 6px; }
.error { color: #b00020; }
.muted { color: #7b8794; }
tr.discrepancy td { background: #fff1d6; }
tr.discrepancy td.field::after { content: " ≠"; color: #b05a00; font-weight: 700; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; background: #e3e7ec; font-size: 12px; }
.badge.warn { background: #ffd8a8; }
.badge.ok { background: #c3f0c8; }
.pager { display: flex; gap: 12px; margin-top: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
.kind, table.calls td:first-child, table.timeline td:first-child { white-space: nowrap; }
`;

/**
 * Draws the overview's charts with uPlot from the JSON in #overview-data: calls and answered
 * per day and per hour (bars), answer rate (line, right axis).
 */
const OVERVIEW_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById("overview-data").textContent);
  function chart(el, title, xs, labels, calls, answered) {
    var rate = calls.map(function (c, i) { return c > 0 ? Math.round((answered[i] / c) * 1000) / 10 : null; });
    var bars = uPlot.paths.bars({ size: [0.6, 40] });
    new uPlot({
      title: title, width: 560, height: 260,
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } }, pct: { range: [0, 100] } },
      axes: [
        { values: function (u, ticks) { return ticks.map(function (t) { return labels[t] === undefined ? "" : labels[t]; }); } },
        { label: "calls" },
        { side: 1, scale: "pct", label: "answer rate %", grid: { show: false } }
      ],
      series: [
        { label: title.indexOf("hour") >= 0 ? "hour" : "day", value: function (u, v) { return v == null ? "" : labels[v]; } },
        { label: "calls", fill: "rgba(56,120,200,0.35)", stroke: "#3878c8", paths: bars },
        { label: "answered", fill: "rgba(46,160,90,0.5)", stroke: "#2ea05a", paths: bars },
        { label: "answer rate %", scale: "pct", stroke: "#b05a00", width: 2 }
      ]
    }, [xs, calls, answered, rate], el);
  }
  var d = data.daily;
  chart(document.getElementById("chart-daily"), "Calls per day",
    d.map(function (_, i) { return i; }), d.map(function (r) { return r.day; }),
    d.map(function (r) { return r.calls; }), d.map(function (r) { return r.answered; }));
  var h = data.hourly;
  chart(document.getElementById("chart-hourly"), "Calls per hour of " + data.hourDay,
    h.map(function (r) { return r.hour; }), h.reduce(function (a, r) { a[r.hour] = String(r.hour).padStart(2, "0") + ":00"; return a; }, {}),
    h.map(function (r) { return r.calls; }), h.map(function (r) { return r.answered; }));
})();
`;
