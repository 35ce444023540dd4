/**
 * One call's page: what it is, the receipts' values beside the reconciled detail (disagreements
 * highlighted), and a timeline of everything that happened to it, in time order: receipts as
 * they arrived (raw body on demand), in-call events with their meanings, recordings, smart-call
 * dialogue turns with the answers given, and the reconciliation; then the webhook deliveries of
 * the call's outcome events (callDeliveries.ts).
 */
import { normalizeReceipt } from "../../domain/receipt.js";
import {
  callEventMeaning,
  earlyMediaMeaning,
  smartStatusMeaning,
  statusMeaning,
} from "../../domain/statusCodes.js";
import { COMPARED_FIELDS, detailValues, type JsonObject } from "../../reconcile/detail.js";
import type { CallStory, RecordingRecord } from "../../store/explorer/callPage.js";
import { html, thead, type Html, type Interpolation } from "../html.js";
import { beijing, page, UI_PATH, type PageContext } from "../layout.js";
import { maskText, shownNumber } from "../mask.js";
import { deliveriesSection } from "./callDeliveries.js";

/** Signed OSS links carry `Expires` (epoch seconds); otherwise Alibaba keeps them 7 days. */
const LINK_DAYS = 7;

export function recordingExpiry(rec: Pick<RecordingRecord, "record_file" | "received_at">): Date {
  try {
    const expires = new URL(rec.record_file).searchParams.get("Expires");
    if (expires !== null && /^\d{9,11}$/.test(expires)) {
      return new Date(Number(expires) * 1000);
    }
  } catch {
    // Not a URL: the received time + 7 days below.
  }
  return new Date(rec.received_at.getTime() + LINK_DAYS * 86_400_000);
}

const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function display(v: unknown): string {
  if (v === null || v === undefined) {
    return "";
  }
  return v instanceof Date ? beijing(v) : String(v);
}

const NUMBER_FIELDS = new Set(["caller", "callee"]);

/** VoiceReport values, the detail's, and what is stored, per compared field. */
function comparison(story: CallStory, ctx: PageContext): Html {
  const { call } = story;
  const reports = story.receipts.filter((r) => r.message_type === "VoiceReport");
  const last = reports[reports.length - 1];
  const normalized = last ? normalizeReceipt("VoiceReport", last.body) : undefined;
  const fromReport = normalized?.ok ? normalized.receipt.call : null;
  const detail = isObject(call.detail) ? detailValues(call.detail) : null;
  const disagree = isObject(call.discrepancies) ? call.discrepancies : {};
  const stored: Record<string, unknown> = call as unknown as Record<string, unknown>;
  const cell = (field: string, v: unknown) => {
    const text = display(v);
    return NUMBER_FIELDS.has(field) ? shownNumber(text || null, ctx.showNumbers) : text;
  };
  const rows = COMPARED_FIELDS.map(([column, key]) => {
    const d = disagree[column];
    const differs = isObject(d);
    // The receipt's value as recorded at reconcile time when they disagreed, else the report's.
    const receiptValue = differs ? d.receipt : fromReport ? fromReport[key] : undefined;
    return html`<tr${differs ? html` class="discrepancy"` : null} data-field="${column}">
<td class="field">${column}</td>
<td>${cell(column, differs && typeof receiptValue === "string" && column.endsWith("_time") ? new Date(receiptValue) : receiptValue)}</td>
<td>${detail ? cell(column, detail[key]) : ""}</td>
<td>${cell(column, stored[column])}</td></tr>`;
  });
  return html`<h2>VoiceReport and reconciled detail</h2>
    <p class="muted">
      Reconcile:
      <span class="badge${call.reconcile_status === "reconciled" ? " ok" : ""}"
        >${call.reconcile_status}</span
      >
      ${call.reconcile_skip_reason ? html` (${call.reconcile_skip_reason})` : null}
      ${call.reconciled_at ? html` at ${beijing(call.reconciled_at)}` : null}
      ${call.prod_id ? html`, ProdId ${call.prod_id}` : null}, ${call.reconcile_attempts}
      attempt(s). Highlighted rows: the receipt and QueryCallDetailByCallId disagree (the detail
      wins).
    </p>
    <table class="compare">
      ${thead("field", "VoiceReport", "call detail", "stored")}
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${
      isObject(call.detail)
        ? html`<details>
            <summary>call detail (QueryCallDetailByCallId Data)</summary>
            <pre>${maskText(JSON.stringify(call.detail, null, 2), ctx.showNumbers)}</pre>
          </details>`
        : null
    }`;
}

interface Entry {
  at: Date | null;
  order: number;
  kind: string;
  what: Interpolation;
  more: Interpolation;
}

function recording(rec: RecordingRecord, callId: string, now: Date): Interpolation {
  const expires = recordingExpiry(rec);
  // Stored in VMS_RECORDINGS_STORE: played from there (index.ts), whatever the link's expiry.
  const stored = rec.fetch_status === "stored" && typeof rec.storage_key === "string";
  return html`<a class="recording" href="${rec.record_file}" rel="noreferrer" target="_blank"
      >record_file</a
    >
    · link ${expires.getTime() < now.getTime() ? "expired" : "expires"} ${beijing(expires)}
    ${rec.duration_seconds !== null ? html` · ${rec.duration_seconds} s` : null}
    ${stored ? html`<br /><audio controls preload="none" src="${`${UI_PATH}/calls/${encodeURIComponent(callId)}/recording?id=${rec.id}`}"></audio>` : null}`;
}

function timeline(story: CallStory, ctx: PageContext, now: Date): Html {
  const entries: Entry[] = [];
  const raw = (body: unknown) =>
    html`<details>
      <summary>raw body</summary>
      <pre>${maskText(JSON.stringify(body, null, 2), ctx.showNumbers)}</pre>
    </details>`;
  for (const r of story.receipts) {
    entries.push({
      at: r.received_at,
      order: 1,
      kind: "receipt",
      what: html`${r.message_type} via
        <b>${r.source}</b>${r.status_code ? html` · ${r.status_code}` : null}${
          r.processed_at ? null : html` <span class="badge warn">not yet applied</span>`
        }${r.error ? html` <span class="error">${r.error}</span>` : null}`,
      more: raw(r.body),
    });
  }
  for (const e of story.events) {
    const meaning = callEventMeaning(e.status_code) ?? statusMeaning(e.status_code);
    entries.push({
      at: e.status_time ?? e.received_at,
      order: 0,
      kind: "event",
      what: html`<span class="event-code">${e.status_code}</span>
        <span class="meaning">${meaning ?? "(unknown code)"}</span>${
          e.dtmf ? html` · key <b>${e.dtmf}</b>` : null
        }${e.smart_status_code ? html` · ${e.smart_status_code} ${smartStatusMeaning(e.smart_status_code)}` : null}`,
      more: e.status_time
        ? null
        : html`<span class="muted">no status_time: placed at arrival</span>`,
    });
  }
  for (const rec of story.recordings) {
    entries.push({
      at: rec.record_begin_time ?? rec.start_time ?? rec.received_at,
      order: 2,
      kind: "recording",
      what: recording(rec, story.call.call_id, now),
      more: null,
    });
  }
  for (const t of story.turns) {
    entries.push({
      at: t.turn_time,
      order: 0,
      kind: "dialogue",
      what: html`<b>${t.role ?? t.content_type}</b>:
        ${t.words ?? (t.dtmf ? `[${t.dtmf}]` : `(${t.content_type})`)}`,
      more: t.answered_action
        ? html`answered
            <b>${t.answered_action}</b
            >${t.answered_action_code ? html` ${t.answered_action_code}` : null} by
            ${t.answered_by}${
              t.answered_reason ? html` (${t.answered_reason})` : null
            }${t.latency_ms !== null ? html` in ${t.latency_ms} ms` : null}`
        : null,
    });
  }
  if (story.call.reconciled_at) {
    entries.push({
      at: story.call.reconciled_at,
      order: 3,
      kind: "reconciled",
      what: html`QueryCallDetailByCallId
      answered${story.call.prod_id ? html` (ProdId ${story.call.prod_id})` : null}`,
      more: null,
    });
  }
  entries.sort(
    (a, b) => (a.at?.getTime() ?? Infinity) - (b.at?.getTime() ?? Infinity) || a.order - b.order,
  );
  return html`<h2>Timeline</h2>
    <table class="timeline">
      ${thead("time (Beijing)", "what", "", "")}
      <tbody>
        ${entries.map(
          (e) =>
            html`<tr class="${e.kind}">
              <td>${beijing(e.at)}</td>
              <td class="kind">${e.kind}</td>
              <td>${e.what}</td>
              <td>${e.more}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

export function callPage(story: CallStory, ctx: PageContext, now = new Date()): Html {
  const c = story.call;
  const facts: [string, Interpolation][] = [
    ["out_id", c.out_id],
    ["direction", c.direction],
    ["product", c.product ?? "unknown until reconciled"],
    ["caller", shownNumber(c.caller, ctx.showNumbers)],
    ["callee", shownNumber(c.callee, ctx.showNumbers)],
    [
      "status",
      html`${c.status_code}
        <span class="meaning"
          >${c.status_code ? (statusMeaning(c.status_code) ?? c.status_msg) : "no result yet"}</span
        >`,
    ],
    [
      "smart status",
      c.smart_status_code
        ? `${c.smart_status_code} ${smartStatusMeaning(c.smart_status_code) ?? ""}`
        : null,
    ],
    [
      "early media",
      c.early_media_code
        ? `${c.early_media_code} ${earlyMediaMeaning(c.early_media_code) ?? ""}`
        : null,
    ],
    ["started", beijing(c.start_time)],
    ["ended", beijing(c.end_time)],
    ["talk seconds", c.duration_seconds],
    ["hang-up", c.hangup_direction],
    ["keys pressed", c.dtmf],
  ];
  return page(
    ctx,
    `Call ${c.call_id}`,
    html`<table class="facts">
        <tbody>
          ${facts
            .filter(([, v]) => v !== null && v !== undefined && v !== "")
            .map(
              ([k, v]) =>
                html`<tr>
                  <th>${k}</th>
                  <td>${v}</td>
                </tr>`,
            )}
        </tbody>
      </table>
      ${comparison(story, ctx)} ${timeline(story, ctx, now)}
      ${deliveriesSection(story.deliveries, ctx.showNumbers)}`,
  );
}
