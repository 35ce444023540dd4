/**
 * The call explorer at /ui (README "Call explorer"): read-only pages over calls, receipts,
 * events, recordings, dialogue turns and rejected receipts, behind VMS_ADMIN_TOKEN with the
 * queue board's gate (src/ops/adminGate.ts); not mounted when the token is unset.
 *
 * Numbers stay out of URLs and logs: a search is POSTed and continues as a sealed `q`
 * (searchForm.ts); the daemon's fastify has request logging off (sources/http/server.ts), and
 * this scope's error handler logs the error alone, never the URL or the body.
 *
 * Over 300 lines on purpose: every route of the explorer and its access rule in one place, so
 * what /ui exposes can be read in one file.
 */
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";

import { formatBeijingDate, parseBeijingDate } from "../domain/time.js";
import type { Logger } from "../logger.js";
import { createAdminGate } from "../ops/adminGate.js";
import { findReport, runReport } from "../report/reports.js";
import type { ObjectStore } from "../recordings/objectStore.js";
import { loadCall } from "../store/explorer/callPage.js";
import { findStoredRecording } from "../store/explorer/storedRecording.js";
import { searchCalls } from "../store/explorer/callSearch.js";
import { callsPerHour } from "../store/explorer/hourly.js";
import { listRejected, rejectedByReason } from "../store/explorer/rejected.js";
import { asset } from "./assets.js";
import { html, type Html } from "./html.js";
import { link, numbersShown, page, UI_PATH, type PageContext } from "./layout.js";
import { callPage } from "./pages/call.js";
import { callsPage } from "./pages/calls.js";
import { overviewPage } from "./pages/overview.js";
import { rejectedPage } from "./pages/rejected.js";
import {
  createSealer,
  decodeCallCursor,
  decodeRejectedCursor,
  encodeCursor,
  searchFormSchema,
  toCallSearch,
  type SearchForm,
} from "./searchForm.js";

export interface CallExplorerOptions {
  token: string;
  pool: pg.Pool;
  logger: Logger;
  /** VMS_RECORDINGS_STORE, whose copies the call page plays; undefined when it is off. */
  recordingStore: ObjectStore | undefined;
  /** Rows per page of calls and of rejected receipts. */
  pageSize?: number;
}

type Query = Record<string, string | undefined>;
const query = (req: FastifyRequest) => (req.query ?? {}) as Query;

const context = (req: FastifyRequest): PageContext => ({
  url: req.url,
  showNumbers: numbersShown(req.query),
});

const send = (reply: FastifyReply, body: Html, status = 200) =>
  reply
    .code(status)
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(body.text);

/** A `YYYY-MM-DD` query value, or a problem naming it. */
function dayParam(q: Query, name: string, problems: string[]): string | undefined {
  const v = q[name]?.trim();
  if (v === undefined || v === "") {
    return undefined;
  }
  if (!parseBeijingDate(v).ok) {
    problems.push(`${name}: not a day YYYY-MM-DD`);
    return undefined;
  }
  return v;
}

const issues = (error: { issues: { path: PropertyKey[]; message: string }[] }) =>
  error.issues.map((i) => `${i.path.map(String).join(".") || "search"}: ${i.message}`);

/** A file store's ENOENT or S3's NoSuchKey: the object is not there (vs. the store is down). */
function isMissing(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } };
  return e.code === "ENOENT" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

export function registerCallExplorer(app: FastifyInstance, options: CallExplorerOptions): void {
  const { pool, logger } = options;
  const pageSize = options.pageSize ?? 50;
  const sealer = createSealer(options.token);
  const gate = createAdminGate({
    token: options.token,
    cookie: "vr_ui",
    path: UI_PATH,
    label: "call explorer",
  });

  void app.register(async (scope) => {
    scope.addHook("onRequest", gate);
    await scope.register(formbody, { bodyLimit: 16_384 });
    scope.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
      const status =
        err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) {
        // The error alone: a URL or body here could carry what the user searched for.
        logger.error({ err }, "call explorer request failed");
      }
      return send(
        reply,
        page(
          context(req),
          "Error",
          html`<p class="error">
            ${status >= 500 ? "The page failed; the error is in the daemon's log." : err.message}
          </p>`,
        ),
        status,
      );
    });

    async function calls(req: FastifyRequest, reply: FastifyReply) {
      const ctx = context(req);
      const q = query(req);
      let form: SearchForm = {};
      const problems: string[] = [];
      if (q.q) {
        const opened = sealer.open(q.q);
        if (opened) {
          form = opened;
        } else {
          problems.push(
            "this search link was made with another admin token or is damaged: search again",
          );
        }
      }
      const after = decodeCallCursor(q.after);
      const result = await searchCalls(pool, toCallSearch(form), after, pageSize);
      const params = { q: q.q };
      return send(
        reply,
        callsPage(
          ctx,
          form,
          {
            rows: result.rows,
            nextUrl: result.next
              ? link(UI_PATH, ctx, { ...params, after: encodeCursor(result.next) })
              : undefined,
            firstUrl: after ? link(UI_PATH, ctx, params) : undefined,
          },
          problems,
        ),
        problems.length > 0 ? 400 : 200,
      );
    }
    scope.get(UI_PATH, calls);
    scope.get(`${UI_PATH}/`, calls);

    scope.post(`${UI_PATH}/search`, async (req, reply) => {
      const ctx = context(req);
      const parsed = searchFormSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        const raw = (req.body ?? {}) as Record<string, unknown>;
        // Shown back without the number (the page may be masked).
        const { number: _number, ...rest } = raw;
        const form = Object.fromEntries(
          Object.entries(rest).filter(([, v]) => typeof v === "string"),
        ) as SearchForm;
        return send(
          reply,
          callsPage(
            ctx,
            form,
            { rows: [], nextUrl: undefined, firstUrl: undefined },
            issues(parsed.error),
          ),
          400,
        );
      }
      return reply.redirect(link(UI_PATH, ctx, { q: sealer.seal(parsed.data) }), 303);
    });

    scope.get<{ Params: { callId: string } }>(`${UI_PATH}/calls/:callId`, async (req, reply) => {
      const story = await loadCall(pool, req.params.callId);
      if (!story) {
        return send(
          reply,
          page(
            context(req),
            "No such call",
            html`<p>No call <code>${req.params.callId}</code> is stored.</p>`,
          ),
          404,
        );
      }
      return send(reply, callPage(story, context(req)));
    });

    // The stored copy of a recording of this call, streamed from VMS_RECORDINGS_STORE.
    scope.get<{ Params: { callId: string }; Querystring: { id?: string } }>(
      `${UI_PATH}/calls/:callId/recording`,
      async (req, reply) => {
        const notStored = (why: string) =>
          reply.code(404).type("text/plain; charset=utf-8").send(`${why}\n`);
        const store = options.recordingStore;
        if (!store) {
          return notStored("no stored copy: VMS_RECORDINGS_STORE is off");
        }
        const rec = await findStoredRecording(pool, req.params.callId, req.query.id ?? "");
        if (!rec) {
          return notStored("no stored copy of this recording of this call");
        }
        let body;
        try {
          body = await store.get(rec.storage_key);
        } catch (err) {
          if (isMissing(err)) {
            // The row says stored but the object is gone (removed by hand, lifecycle rule).
            logger.warn({ err }, "call explorer: stored recording missing from the store");
            return notStored("the stored copy is missing from the recording store");
          }
          logger.error({ err }, "call explorer: recording store unreadable");
          return reply
            .code(503)
            .type("text/plain; charset=utf-8")
            .send("the recording store is unavailable\n");
        }
        if (rec.bytes !== null) {
          void reply.header("content-length", String(rec.bytes));
        }
        return reply
          .header("cache-control", "private, no-store")
          .type(rec.content_type ?? "application/octet-stream")
          .send(body);
      },
    );

    scope.get(`${UI_PATH}/overview`, async (req, reply) => {
      const q = query(req);
      const problems: string[] = [];
      const today = formatBeijingDate(new Date());
      const to = dayParam(q, "to", problems) ?? today;
      const from =
        dayParam(q, "from", problems) ??
        formatBeijingDate(new Date(Date.parse(`${to}T00:00:00+08:00`) - 6 * 86_400_000));
      const hourDay = dayParam(q, "day", problems) ?? to;
      if (from > to) {
        problems.push("from is after to");
      }
      const params = { from, to, arg: null };
      const [daily, status, hourly, rejected] = await Promise.all([
        runReport(pool, findReport("daily"), params),
        runReport(pool, findReport("status"), params),
        callsPerHour(pool, hourDay),
        rejectedByReason(pool, { fromDay: from, toDay: to }),
      ]);
      return send(
        reply,
        overviewPage(
          context(req),
          { from, to, hourDay, daily: daily.rows, status: status.rows, hourly, rejected },
          problems,
        ),
        problems.length > 0 ? 400 : 200,
      );
    });

    scope.get(`${UI_PATH}/rejected`, async (req, reply) => {
      const ctx = context(req);
      const q = query(req);
      const problems: string[] = [];
      const filter = {
        ...(q.reason ? { reason: q.reason } : {}),
        ...(dayParam(q, "from", problems) ? { fromDay: q.from!.trim() } : {}),
        ...(dayParam(q, "to", problems) ? { toDay: q.to!.trim() } : {}),
      };
      const result = await listRejected(pool, filter, decodeRejectedCursor(q.after), pageSize);
      return send(
        reply,
        rejectedPage(
          ctx,
          {
            reason: filter.reason,
            from: filter.fromDay,
            to: filter.toDay,
            rows: result.rows,
            nextUrl: result.next
              ? link(`${UI_PATH}/rejected`, ctx, {
                  reason: filter.reason,
                  from: filter.fromDay,
                  to: filter.toDay,
                  after: encodeCursor(result.next),
                })
              : undefined,
          },
          problems,
        ),
        problems.length > 0 ? 400 : 200,
      );
    });

    scope.get<{ Params: { name: string } }>(`${UI_PATH}/assets/:name`, async (req, reply) => {
      const file = asset(req.params.name);
      if (!file) {
        return reply.code(404).type("text/plain; charset=utf-8").send("no such asset\n");
      }
      return reply
        .header("cache-control", "private, max-age=3600")
        .type(file.type)
        .send(await file.body);
    });
  });
}
