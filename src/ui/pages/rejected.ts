/** Rejected receipts: newest first, by reason and day, each with its raw text and origin. */
import type { RejectedRow } from "../../store/explorer/rejected.js";
import { html, thead, type Html } from "../html.js";
import { beijing, link, page, UI_PATH, type PageContext } from "../layout.js";
import { maskText } from "../mask.js";

export interface RejectedView {
  reason: string | undefined;
  from: string | undefined;
  to: string | undefined;
  rows: RejectedRow[];
  nextUrl: string | undefined;
}

export function rejectedPage(ctx: PageContext, v: RejectedView, problems: string[]): Html {
  return page(
    ctx,
    "Rejected receipts",
    html`<form class="search" method="get" action="${UI_PATH}/rejected">
        <label>reason (exact)<input type="text" name="reason" value="${v.reason ?? ""}" /></label>
        <label>from day<input type="date" name="from" value="${v.from ?? ""}" /></label>
        <label>to day<input type="date" name="to" value="${v.to ?? ""}" /></label>
        ${ctx.showNumbers ? html`<input type="hidden" name="numbers" value="shown" />` : null}
        <div class="actions">
          <button type="submit">Show</button> <a href="${link(`${UI_PATH}/rejected`, ctx)}">all</a>
          <span class="muted"
            >Per reason counts:
            <a href="${link(`${UI_PATH}/overview`, ctx, { from: v.from, to: v.to })}">overview</a
            >.</span
          >
        </div>
      </form>
      ${problems.length > 0 ? html`<p class="error" role="alert">${problems.join("; ")}</p>` : null}
      ${v.rows.length === 0 ? html`<p class="muted">No rejected receipts match.</p>` : null}
      <table class="rejected">
        ${thead("received (Beijing)", "source", "from", "type", "reason", "raw")}
        <tbody>
          ${v.rows.map(
            (r) =>
              html`<tr>
                <td>${beijing(r.received_at)}</td>
                <td>${r.source}</td>
                <td><code>${r.location}</code></td>
                <td>${r.message_type}</td>
                <td>
                  <a
                    href="${link(`${UI_PATH}/rejected`, ctx, { reason: r.reason, from: v.from, to: v.to })}"
                    >${r.reason}</a
                  >
                </td>
                <td>
                  <details>
                    <summary>${r.raw.length} chars</summary>
                    <pre>${maskText(r.raw, ctx.showNumbers)}</pre>
                  </details>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <div class="pager">
        ${v.nextUrl ? html`<a href="${v.nextUrl}" rel="next">Older »</a>` : null}
      </div>`,
  );
}
