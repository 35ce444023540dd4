/**
 * POST /smart-call/callback — the SmartCall ASR callback (CONTRACT §4, §8). The HTTP edge:
 *
 *   200 {"result":"success","msg":"成功","data":{"call_id":…,"action":…,"action_code":…}}
 *       always for a well-formed turn, within VMS_SMART_CALL_DEADLINE_MS — also when the turn
 *       could not be stored (see service.ts for why)
 *   400 {"result":"fail","msg":<what is wrong>,"data":{}}  malformed; kept in rejected_receipts
 *       (source http, message_type SmartCallCallback)
 *   401 {"result":"fail",…}  push token configured and missing or wrong (same rule as /push)
 *
 * Parameters are read from a form-urlencoded body, a JSON body or the query string (callback.ts).
 */
import { performance } from "node:perf_hooks";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import type { Logger } from "../logger.js";
import { requestToken, tokenMatches } from "../sources/http/pushRoute.js";
import type { RejectedRow } from "../store/rejectedReceipts/insert.js";
import { failureReply, successReply } from "./answer.js";
import { parseCallback, queryWithoutToken, readCallbackParams } from "./callback.js";
import type { SmartCallMetrics } from "./metrics.js";
import type { SmartCallService } from "./service.js";

export const SMART_CALL_PATH = "/smart-call/callback";
/** message_type of a malformed callback in rejected_receipts. */
export const SMART_CALL_MESSAGE_TYPE = "SmartCallCallback";

export interface SmartCallRouteDeps {
  service: SmartCallService;
  token: string | undefined;
  metrics: SmartCallMetrics;
  logger: Logger;
  /** Quarantine (Intake.reject); may throw when PostgreSQL is down. */
  reject(rows: readonly RejectedRow[]): Promise<void>;
}

export function registerSmartCallRoute(app: FastifyInstance, deps: SmartCallRouteDeps): void {
  const arrivals = new WeakMap<FastifyRequest, number>();

  // A scope of its own, like the push route: every body is taken as text whatever its content
  // type, so that form, JSON and unknown encodings are parsed here and a bad one kept verbatim.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
    // The deadline runs from the request's arrival, not from the end of body parsing.
    scope.addHook("onRequest", (req, _reply, done) => {
      arrivals.set(req, performance.now());
      done();
    });
    // A turn is a few hundred bytes; no reason to buffer megabytes for this route.
    scope.post(SMART_CALL_PATH, { bodyLimit: 256 * 1024 }, async (req, reply) => {
      await handle(req, reply, arrivals.get(req) ?? performance.now());
      return reply;
    });
  });

  async function handle(req: FastifyRequest, reply: FastifyReply, arrivedAt: number) {
    if (deps.token !== undefined && !tokenMatches(deps.token, requestToken(req))) {
      deps.metrics.callbacks.inc({ answered_by: "none", outcome: "unauthorized" });
      return reply.code(401).send(failureReply("missing or wrong push token"));
    }
    const [path = "", search = ""] = splitUrl(req.url);
    const query = queryWithoutToken(search);
    const body = typeof req.body === "string" ? req.body : "";
    const contentType = req.headers["content-type"];
    const read = readCallbackParams({ contentType, body, query });
    const parsed = read.ok ? parseCallback(read.params) : read;
    if (!parsed.ok) {
      deps.metrics.callbacks.inc({ answered_by: "none", outcome: "invalid" });
      // Both parts, the token removed: the platform's encoding is undocumented.
      const raw = [query, body].filter((s) => s !== "").join("\n");
      try {
        await deps.reject([
          {
            source: "http",
            messageType: SMART_CALL_MESSAGE_TYPE,
            raw,
            reason: parsed.reason,
            location: path,
          },
        ]);
      } catch (err) {
        deps.logger.warn(
          { err },
          "malformed smart-call callback could not be kept in rejected_receipts",
        );
      }
      deps.logger.warn(
        { reason: parsed.reason, bytes: raw.length },
        "smart-call callback rejected",
      );
      return reply.code(400).send(failureReply(parsed.reason));
    }
    const turn = parsed.turn;
    const outcome = await deps.service.answer(turn, arrivedAt);
    deps.metrics.answerDuration.observe((performance.now() - arrivedAt) / 1000);
    deps.logger.info(
      {
        callId: turn.callId,
        contentType: turn.contentType,
        action: outcome.answer.action,
        answeredBy: outcome.answeredBy,
        duplicate: outcome.duplicate,
        latencyMs: Math.round(outcome.latencyMs),
      },
      "smart-call turn answered",
    );
    return reply.code(200).send(successReply(turn.callId, outcome.answer));
  }
}

function splitUrl(url: string): [string, string] {
  const i = url.indexOf("?");
  return i < 0 ? [url, ""] : [url.slice(0, i), url.slice(i + 1)];
}
