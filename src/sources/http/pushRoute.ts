/**
 * POST /push/:messageType — Alibaba's HTTP batch push (README "Receiving HTTP pushes"). This is the
 * HTTP edge: intake outcomes and errors become status codes here and nowhere else.
 *
 *   200 {"code":0,"msg":"接收成功"}  every receipt durable (or quarantined as invalid); test push
 *   400  body not UTF-8 JSON / not an object or array (raw body quarantined with the reason;
 *        bytes that are not UTF-8 are kept as `base64:` + their Base64)
 *   401  push token configured and missing or wrong
 *   404  unknown message type
 *   413  body over the limit (fastify's bodyLimit)
 *   503  PostgreSQL or Redis unavailable: Alibaba retries after 1, 5 and 10 minutes
 */
import { createHash, timingSafeEqual } from "node:crypto";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { parsePushBody, type EnvelopeResult } from "../../domain/envelope.js";
import { decodeUtf8 } from "../../domain/jsonText.js";
import { KNOWN_MESSAGE_TYPES } from "../../domain/schemas.js";
import { StorageUnavailableError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { Metrics } from "../../ops/metrics.js";
import type { Intake, IntakeResult } from "../../pipeline/intake.js";
import { createBytesInFlight } from "./bytesInFlight.js";

export const PUSH_OK = { code: 0, msg: "接收成功" } as const;

export interface PushRouteDeps {
  intake: Intake;
  metrics: Metrics;
  token: string | undefined;
  logger: Logger;
  /** Largest accepted body (fastify's bodyLimit): what a body of unknown length counts as. */
  bodyLimitBytes: number;
  /** Push bytes the ingester may hold at once (bytesInFlight.ts); the rest wait unread. */
  maxBytesInFlight: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== "string") {
    return false;
  }
  return timingSafeEqual(digest(expected), digest(given));
}

/** The push token from `?token=` or the `x-push-token` header; shared with the smart-call route. */
export function requestToken(req: FastifyRequest): unknown {
  const q = req.query as Record<string, unknown> | undefined;
  return req.headers["x-push-token"] ?? q?.token;
}

/**
 * The body's bytes when they are a JSON array (the usual push), without a byte-order mark, for
 * intake to store each element's bytes as received; undefined for a lone object.
 */
function jsonArrayBytes(bytes: Buffer): Buffer | undefined {
  const body =
    bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  for (const b of body) {
    if (b === 0x5b) {
      return body;
    }
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
      return undefined;
    }
  }
  return undefined;
}

export function registerPushRoutes(app: FastifyInstance, deps: PushRouteDeps): void {
  const known = new Set<string>(KNOWN_MESSAGE_TYPES);
  const inFlight = createBytesInFlight(deps.maxBytesInFlight);
  const { pushBytesInFlight, pushBytesInFlightPeak } = deps.metrics;

  // A scope of its own: take every body as bytes whatever its content type (Alibaba's is not
  // documented), so that an unparsable body can be kept verbatim in rejected_receipts and bytes
  // that are not UTF-8 are refused rather than silently turned into U+FFFD (fastify's "string").
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

    // Before the body is read: wait for room within the bytes-in-flight budget. Until then the
    // request's bytes stay in the socket (Node stops reading it), which slows the sender down.
    scope.addHook("onRequest", async (req, reply) => {
      const declared = Number(req.headers["content-length"]);
      const bytes =
        Number.isSafeInteger(declared) && declared >= 0
          ? Math.min(declared, deps.bodyLimitBytes)
          : deps.bodyLimitBytes;
      const release = await inFlight.acquire(bytes);
      pushBytesInFlight.set(inFlight.held());
      pushBytesInFlightPeak.set(inFlight.peak());
      const done = () => {
        release();
        pushBytesInFlight.set(inFlight.held());
      };
      // 'close' fires once the answer is sent or the connection is gone, whichever comes first;
      // a client that left while waiting gives its room back at once.
      if (req.raw.socket?.destroyed === true) {
        done();
      } else {
        reply.raw.once("close", done);
      }
    });

    scope.post<{ Params: { messageType: string } }>("/push/:messageType", async (req, reply) => {
      const started = process.hrtime.bigint();
      const { messageType } = req.params;
      const status = await handle(req, reply, messageType);
      deps.metrics.pushRequests.inc({
        type: known.has(messageType) ? messageType : "unknown",
        status,
      });
      deps.metrics.pushDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return reply;
    });
  });

  /**
   * Decode, parse and hand the body to intake, in a plain (not async) function: an async frame
   * keeps every local alive across its awaits (V8), and the decoded text and the parsed items
   * (≈ 4× the body's bytes) must not stay in the heap while the INSERT runs — what a push holds
   * then is its rows and its bytes, which VMS_PUSH_MAX_BYTES_IN_FLIGHT bounds.
   */
  function begin(
    bytes: Buffer,
    messageType: string,
    location: string | null,
  ):
    | { kind: "test" }
    | { kind: "invalid"; reason: string; stored: Promise<void> }
    | { kind: "items"; receipts: number; stored: Promise<IntakeResult> } {
    const decoded = decodeUtf8(bytes);
    const text = decoded.ok ? decoded.text : `base64:${bytes.toString("base64")}`;
    const parsed: EnvelopeResult = decoded.ok
      ? parsePushBody(text)
      : { kind: "invalid", reason: `push body is ${decoded.reason}` };
    if (parsed.kind === "test") {
      return parsed;
    }
    if (parsed.kind === "invalid") {
      const { reason } = parsed;
      const row = { source: "http" as const, messageType, raw: text, reason, location };
      return { kind: "invalid", reason, stored: deps.intake.reject([row]) };
    }
    return {
      kind: "items",
      receipts: parsed.items.length,
      stored: deps.intake.accept({
        source: "http",
        messageType,
        items: parsed.items.map((raw, i) => ({ raw, location: `push#${i}` })),
        array: jsonArrayBytes(bytes),
      }),
    };
  }

  async function handle(
    req: FastifyRequest,
    reply: FastifyReply,
    messageType: string,
  ): Promise<number> {
    if (deps.token !== undefined && !tokenMatches(deps.token, requestToken(req))) {
      void reply.code(401).send({ code: 401, msg: "missing or wrong push token" });
      return 401;
    }
    if (!known.has(messageType)) {
      void reply.code(404).send({
        code: 404,
        msg: `unknown message type ${messageType}; expected one of ${KNOWN_MESSAGE_TYPES.join(", ")}`,
      });
      return 404;
    }
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const body = begin(bytes, messageType, req.url.split("?")[0] ?? null);
      if (body.kind === "test") {
        deps.logger.info({ messageType }, "console test push received");
        void reply.code(200).send(PUSH_OK);
        return 200;
      }
      if (body.kind === "invalid") {
        await body.stored;
        deps.logger.warn(
          { messageType, reason: body.reason, bytes: bytes.length },
          "push body rejected",
        );
        void reply.code(400).send({ code: 400, msg: body.reason });
        return 400;
      }
      const { receipts } = body;
      const result = await body.stored;
      deps.logger.info(
        {
          messageType,
          receipts,
          accepted: result.accepted,
          duplicates: result.duplicates,
          rejected: result.rejected,
        },
        "push accepted",
      );
      void reply.code(200).send(PUSH_OK);
      return 200;
    } catch (err) {
      if (err instanceof StorageUnavailableError) {
        deps.logger.warn({ messageType, err }, "push refused: storage unavailable");
        void reply.code(503).send({ code: 503, msg: `${err.message}; retry later` });
        return 503;
      }
      throw err;
    }
  }
}
