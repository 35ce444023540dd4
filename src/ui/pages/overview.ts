/**
 * The overview: calls and answer rate per day (report daily) and per hour of one day, calls per
 * status with its meaning (report status), rejected receipts per reason. The day and status
 * numbers are the report module's own rows (src/report/reports.ts), so they are `report`'s.
 */
import type { Row } from "../../report/reports.js";
import type { ReasonCount } from "../../store/explorer/rejected.js";
import type { HourRow } from "../../store/explorer/hourly.js";
import { html, jsonScript, num, thead, type Html } from "../html.js";
import { link, page, UI_PATH, type PageContext } from "../layout.js";

export interface OverviewData {
  from: string;
  to: string;
  hourDay: string;
  daily: Row[];
  status: Row[];
  hourly: HourRow[];
  rejected: ReasonCount[];
}

const pct = (v: unknown) => (typeof v === "number" ? `${(v * 100).toFixed(1)} %` : "");

export function overviewPage(ctx: PageContext, d: OverviewData, problems: string[]): Html {
  const hours = Array.from({ length: 24 }, (_, hour) => {
    const h = d.hourly.find((r) => r.hour === hour);
    return { hour, calls: h?.calls ?? 0, answered: h?.answered ?? 0 };
  });
  const chartData = {
    daily: d.daily.map((r) => ({ day: r.day, calls: r.calls, answered: r.answered })),
    hourly: hours,
    hourDay: d.hourDay,
  };
  return page(
    ctx,
    "Overview",
    html`<form class="search" method="get" action="${UI_PATH}/overview">
        <label>from day<input type="date" name="from" value="${d.from}" /></label>
        <label>to day<input type="date" name="to" value="${d.to}" /></label>
        <label>hours of day<input type="date" name="day" value="${d.hourDay}" /></label>
        ${ctx.showNumbers ? html`<input type="hidden" name="numbers" value="shown" />` : null}
        <div class="actions">
          <button type="submit">Show</button>
          <span class="muted"
            >Beijing days; the same numbers as
            <code>voice-receipts report daily|status --from … --to …</code>.</span
          >
        </div>
      </form>
      ${problems.length > 0 ? html`<p class="error" role="alert">${problems.join("; ")}</p>` : null}
      <div class="charts">
        <div id="chart-daily"></div>
        <div id="chart-hourly"></div>
      </div>
      <h2>Per day</h2>
      <table id="daily">
        ${thead("day", num("calls"), num("answered"), num("answer rate"), num("talk seconds"), num("avg talk"))}
        <tbody>
          ${d.daily.map(
            (r) =>
              html`<tr>
                <td>${String(r.day)}</td>
                <td class="num">${r.calls}</td>
                <td class="num">${r.answered}</td>
                <td class="num">${pct(r.answer_rate)}</td>
                <td class="num">${r.total_talk_seconds}</td>
                <td class="num">${r.avg_talk_seconds}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Per hour of ${d.hourDay}</h2>
      <table id="hourly">
        ${thead("hour", num("calls"), num("answered"), num("answer rate"))}
        <tbody>
          ${[...hours, ...d.hourly.filter((h) => h.hour === null)]
            .filter((h) => h.calls > 0)
            .map(
              (h) =>
                html`<tr>
                  <td>
                    ${h.hour === null ? "no start or end time yet" : `${String(h.hour).padStart(2, "0")}:00`}
                  </td>
                  <td class="num">${h.calls}</td>
                  <td class="num">${h.answered}</td>
                  <td class="num">${pct(h.answered / h.calls)}</td>
                </tr>`,
            )}
        </tbody>
      </table>
      <h2>Status</h2>
      <table id="status">
        ${thead("status_code", "meaning", num("calls"), num("share"))}
        <tbody>
          ${d.status.map(
            (r) =>
              html`<tr>
                <td>
                  ${r.status_code === null ? html`<span class="muted">none</span>` : String(r.status_code)}
                </td>
                <td>${r.meaning === null ? "" : String(r.meaning)}</td>
                <td class="num">${r.calls}</td>
                <td class="num">${pct(r.share)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Rejected receipts per reason</h2>
      ${d.rejected.length === 0 ? html`<p class="muted">None in these days.</p>` : null}
      <table id="rejected">
        ${thead("reason", num("receipts"))}
        <tbody>
          ${d.rejected.map(
            (r) =>
              html`<tr>
                <td>
                  <a
                    href="${link(`${UI_PATH}/rejected`, ctx, { reason: r.reason, from: d.from, to: d.to })}"
                    >${r.reason}</a
                  >
                </td>
                <td class="num">${r.receipts}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <link rel="stylesheet" href="${UI_PATH}/assets/uplot.css" />
      ${jsonScript("overview-data", chartData)}
      <script src="${UI_PATH}/assets/uplot.js"></script>
      <script src="${UI_PATH}/assets/overview.js"></script>`,
  );
}
