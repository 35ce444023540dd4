/**
 * The call page's webhook deliveries: each outcome event of the call (type, time, id) with every
 * attempt to send it to each endpoint (attempt, status, HTTP status, latency, error or the
 * response's first bytes). Endpoints are shown without their query string, where a receiver's
 * URL may carry a token.
 */
import type { DeliveryRecord } from "../../store/explorer/callPage.js";
import { html, thead, type Html } from "../html.js";
import { beijing } from "../layout.js";
import { maskText } from "../mask.js";

function endpointShown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(unparsable endpoint URL)";
  }
}

const BADGE: Record<string, string> = { delivered: " ok", failed: " warn", dead: " warn" };

export function deliveriesSection(rows: readonly DeliveryRecord[], showNumbers: boolean): Html {
  if (rows.length === 0) {
    return html`<h2>Webhook deliveries</h2>
      <p class="muted">No outcome event for this call (or no webhook endpoint configured).</p>`;
  }
  return html`<h2>Webhook deliveries</h2>
    <table class="deliveries">
      ${thead("event (Beijing)", "type", "endpoint", "attempt", "status", "attempted", "latency", "error / response")}
      <tbody>
        ${rows.map(
          (d) =>
            html`<tr data-event="${d.event_id}">
              <td title="${d.event_id}">
                ${beijing(d.occurred_at)}<br /><code>${d.event_id}</code>
              </td>
              <td class="event-type">${d.event_type}</td>
              ${
                d.endpoint === null
                  ? html`<td colspan="6" class="muted">no delivery yet</td>`
                  : html`<td>${endpointShown(d.endpoint)}</td>
                      <td>${d.attempt}</td>
                      <td class="delivery-status">
                        <span class="badge${BADGE[d.status ?? ""] ?? ""}">${d.status}</span>
                        ${d.http_status !== null ? html` HTTP ${d.http_status}` : null}
                      </td>
                      <td>
                        ${d.attempted_at ? beijing(d.attempted_at) : html`due ${beijing(d.due_at)}`}
                      </td>
                      <td>${d.latency_ms !== null ? `${d.latency_ms} ms` : ""}</td>
                      <td>
                        ${d.error ? html`<span class="error">${maskText(d.error, showNumbers)}</span>` : null}
                        ${d.response ? html`<code>${maskText(d.response, showNumbers)}</code>` : null}
                      </td>`
              }
            </tr>`,
        )}
      </tbody>
    </table>`;
}
