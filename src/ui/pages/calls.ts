/** The call search page: the form (POSTed) and one page of results, newest first. */
import { statusMeaning } from "../../domain/statusCodes.js";
import { PRODUCTS } from "../../domain/callDimensions.js";
import { RECONCILE_STATES, type CallListRow } from "../../store/explorer/callSearch.js";
import { html, num, thead, type Html } from "../html.js";
import { beijing, link, page, UI_PATH, type PageContext } from "../layout.js";
import { maskNumber, shownNumber } from "../mask.js";
import type { SearchForm } from "../searchForm.js";

export const callPath = (callId: string) => `${UI_PATH}/calls/${encodeURIComponent(callId)}`;

function select(name: string, value: string | undefined, options: readonly string[]): Html {
  return html`<select name="${name}">
    <option value="">any</option>
    ${options.map((o) => html`<option${o === value ? html` selected` : null}>${o}</option>`)}
  </select>`;
}

function searchForm(form: SearchForm, ctx: PageContext): Html {
  const field = (name: keyof SearchForm, label: string, placeholder = "", type = "text") =>
    html`<label
      >${label}<input
        type="${type}"
        name="${name}"
        value="${form[name] ?? ""}"
        placeholder="${placeholder}"
    /></label>`;
  // A searched number is written back into the form only when numbers are shown; masked, the
  // placeholder says which number the results are for.
  const number =
    form.number !== undefined && !ctx.showNumbers
      ? html`<label
          >caller or callee<input
            type="text"
            name="number"
            value=""
            placeholder="${`searched: ${maskNumber(form.number)}`}"
        /></label>`
      : field("number", "caller or callee", "full number or last digits");
  return html`<form class="search" method="post" action="${link(`${UI_PATH}/search`, ctx)}">
    ${field("call_id", "call_id", "exact")} ${field("out_id", "out_id", "prefix")} ${number}
    ${field("from", "from day", "", "date")} ${field("to", "to day", "", "date")}
    <label>direction${select("direction", form.direction, ["outbound", "inbound"])}</label>
    <label>product${select("product", form.product, PRODUCTS)}</label>
    ${field("status", "status code", "e.g. 200000, or none")}
    <label>reconcile state${select("reconcile", form.reconcile, RECONCILE_STATES)}</label>
    <div class="actions">
      <button type="submit">Search</button>
      <a href="${link(UI_PATH, ctx)}">clear</a>
      <span class="muted">Newest first. Days are Beijing days.</span>
    </div>
  </form>`;
}

export function resultRows(rows: CallListRow[], ctx: PageContext): Html {
  if (rows.length === 0) {
    return html`<p class="muted">No calls match.</p>`;
  }
  return html`<table class="calls">
    ${thead("time (Beijing)", "call_id", "out_id", "direction", "product", "caller", "callee", "status", num("seconds"), "reconcile")}
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            <td>${beijing(r.call_time)}</td>
            <td><a href="${link(callPath(r.call_id), ctx)}">${r.call_id}</a></td>
            <td>${r.out_id}</td>
            <td>${r.direction}</td>
            <td>${r.product ?? html`<span class="muted">?</span>`}</td>
            <td>${shownNumber(r.caller, ctx.showNumbers)}</td>
            <td>${shownNumber(r.callee, ctx.showNumbers)}</td>
            <td>
              ${r.status_code}
              <span class="muted"
                >${r.status_code ? (statusMeaning(r.status_code) ?? r.status_msg) : "no result yet"}</span
              >
            </td>
            <td class="num">${r.duration_seconds}</td>
            <td>
              ${r.reconcile_status}${r.has_discrepancies ? html` <span class="badge warn">discrepancy</span>` : null}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function callsPage(
  ctx: PageContext,
  form: SearchForm,
  result: { rows: CallListRow[]; nextUrl: string | undefined; firstUrl: string | undefined },
  problems: string[],
): Html {
  return page(
    ctx,
    "Calls",
    html`${searchForm(form, ctx)}
      ${problems.length > 0 ? html`<p class="error" role="alert">${problems.join("; ")}</p>` : null}
      ${resultRows(result.rows, ctx)}
      <div class="pager">
        ${result.firstUrl ? html`<a href="${result.firstUrl}">« newest</a>` : null}${
          result.nextUrl ? html`<a href="${result.nextUrl}" rel="next">Older »</a>` : null
        }
      </div>`,
  );
}
