/**
 * Answers one SmartCall turn within the deadline (VMS_SMART_CALL_DEADLINE_MS), asking in order the
 * business webhook, the rules file and the default action (README "Smart voice interaction
 * callbacks"), and stores the turn with what was answered, by whom and why.
 *
 * Time budget, measured from the callback's arrival:
 *   claim    ≤ 20 % of the deadline (≤ 200 ms): store the turn; a retry of an answered turn is
 *            answered from the store, and the webhook is not asked twice;
 *   webhook  whatever is left, minus a small reserve for the reply;
 *   rules    synchronous, microseconds;
 *   record   the answer is stored before replying if that fits in the deadline, else in the
 *            background.
 * Nothing waits past the deadline: a slow PostgreSQL or a hanging webhook only costs their share.
 *
 * Storage failures do not fail the callback. The platform is waiting, mid-call, for the next
 * action: a 503 would leave the caller in silence or end the call, and the platform's retry (if
 * any) would come too late to matter. So the computed action is answered with 200 even when the
 * turn could not be stored; the failure is logged and counted
 * (voice_receipts_smart_call_callbacks_total{outcome="storage_failed"}). The price: such a turn
 * is missing from dialogue_turns and the transcripts view. Receipts (push) take the opposite
 * choice — 503 and Alibaba re-pushes — because there nothing is waiting and a retry loses nothing.
 */
import { performance } from "node:perf_hooks";

import type pg from "pg";

import type { Config } from "../config/index.js";
import type { Logger } from "../logger.js";
import type { AnswerData } from "./answer.js";
import type { SmartCallTurn } from "./callback.js";
import type { SmartCallMetrics } from "./metrics.js";
import { matchRule } from "./rules.js";
import { openRules, type RulesSource } from "./rulesFile.js";
import {
  claimTurn,
  recordAnswer,
  type AnsweredBy,
  type ClaimResult,
} from "../store/dialogueTurns/turns.js";
import { createWebhookClient, type WebhookClient, type WebhookResult } from "./webhook.js";

export interface SmartCallDecision {
  answer: AnswerData;
  answeredBy: AnsweredBy;
  reason: string;
  webhookOutcome: WebhookResult["outcome"] | null;
}

export interface SmartCallOutcome extends SmartCallDecision {
  /** A retry answered from the stored turn. */
  duplicate: boolean;
  latencyMs: number;
}

export interface SmartCallService {
  /** Never rejects: whatever fails, an answer comes back before the deadline. */
  answer(turn: SmartCallTurn, arrivedAt: number): Promise<SmartCallOutcome>;
  /** Stops watching the rules file, waits for background writes, closes the webhook client. */
  close(): Promise<void>;
}

export interface SmartCallServiceDeps {
  config: Config["smartCall"];
  pool: pg.Pool;
  metrics: SmartCallMetrics;
  logger: Logger;
  /** Rules file polling interval (tests shorten it); default 2 s. */
  rulesPollMs?: number;
  /** Write a dialogue.turn outcome event per answered turn (a webhook endpoint opted in). */
  emitDialogueTurns?: boolean;
}

type Settled<T> =
  | { status: "fulfilled"; value: T }
  | { status: "rejected"; reason: unknown }
  | { status: "pending" };

/** Waits for `promise` at most `ms`; never rejects. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const settled = promise.then(
    (value): Settled<T> => ({ status: "fulfilled", value }),
    (reason: unknown): Settled<T> => ({ status: "rejected", reason }),
  );
  if (ms <= 0) {
    return Promise.race([settled, Promise.resolve<Settled<T>>({ status: "pending" })]);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ status: "pending" }), ms);
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

export async function createSmartCallService(
  deps: SmartCallServiceDeps,
): Promise<SmartCallService> {
  const { config, pool, metrics, logger } = deps;
  // Loaded first: a bad rules file is a ConfigError before anything else starts.
  const rules: RulesSource = await openRules({
    path: config.rulesPath,
    logger,
    metrics,
    ...(deps.rulesPollMs === undefined ? {} : { pollIntervalMs: deps.rulesPollMs }),
  });
  const webhook: WebhookClient | undefined = config.forwardUrl
    ? createWebhookClient({ url: config.forwardUrl })
    : undefined;
  const deadlineMs = config.deadlineMs;
  const claimBudgetMs = clamp(deadlineMs * 0.2, 10, 200);
  /** Kept back from the webhook for recording and replying. */
  const reserveMs = clamp(deadlineMs * 0.05, 10, 50);
  const pending = new Set<Promise<unknown>>();

  function track(p: Promise<unknown>): void {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  async function decide(turn: SmartCallTurn, deadlineAt: number): Promise<SmartCallDecision> {
    let asked: WebhookResult | undefined;
    if (webhook) {
      const budget = deadlineAt - performance.now() - reserveMs;
      asked =
        budget >= 5
          ? await webhook.ask(turn, budget)
          : { outcome: "skipped", ms: 0, detail: "not asked: no time left before the deadline" };
      if (asked.outcome !== "skipped") {
        metrics.webhookDuration.observe({ outcome: asked.outcome }, asked.ms / 1000);
      }
      if (asked.outcome === "ok" && asked.answer) {
        return {
          answer: asked.answer,
          answeredBy: "webhook",
          reason: `webhook ${asked.detail}`,
          webhookOutcome: "ok",
        };
      }
      if (asked.outcome !== "no_answer") {
        logger.warn(
          { callId: turn.callId, outcome: asked.outcome, detail: asked.detail },
          "smart-call webhook gave no usable answer; falling back",
        );
      }
    }
    const because = asked ? `; webhook ${asked.detail}` : "";
    const webhookOutcome = asked?.outcome ?? null;
    const currentRules = rules.current();
    const rule = matchRule(currentRules, turn);
    if (rule) {
      return {
        answer: rule.answer,
        answeredBy: "rules",
        reason: `${rule.label}${because}`,
        webhookOutcome,
      };
    }
    return {
      answer: { action: config.defaultAction, action_code: "" },
      answeredBy: "default",
      reason: `${currentRules.length > 0 ? "no rule matched" : "no rules"}${because}`,
      webhookOutcome,
    };
  }

  /** The platform brings dynamic_id back in the next callback only if the answer carries it. */
  function withDynamicId(answer: AnswerData, turn: SmartCallTurn): AnswerData {
    return turn.dynamicId !== null && answer.dynamic_id === undefined
      ? { ...answer, dynamic_id: turn.dynamicId }
      : answer;
  }

  async function answer(turn: SmartCallTurn, arrivedAt: number): Promise<SmartCallOutcome> {
    const deadlineAt = arrivedAt + deadlineMs;
    const claim = claimTurn<AnswerData>(pool, turn);
    const claimed = await settleWithin<ClaimResult<AnswerData>>(
      claim,
      Math.min(claimBudgetMs, deadlineAt - performance.now()),
    );
    if (claimed.status === "fulfilled" && claimed.value.answer !== null) {
      const answeredBy = claimed.value.answeredBy ?? "default";
      metrics.callbacks.inc({ answered_by: answeredBy, outcome: "duplicate" });
      return {
        answer: claimed.value.answer,
        answeredBy,
        reason: "a retry: the answer already given to this turn",
        webhookOutcome: null,
        duplicate: true,
        latencyMs: performance.now() - arrivedAt,
      };
    }

    let decision: SmartCallDecision;
    try {
      decision = await decide(turn, deadlineAt);
    } catch (err) {
      // decide() has no I/O that can throw; this is a last line so the call still goes on.
      logger.error({ err, callId: turn.callId }, "smart-call decision failed; answering default");
      decision = {
        answer: { action: config.defaultAction, action_code: "" },
        answeredBy: "default",
        reason: `internal error: ${(err as Error).message}`,
        webhookOutcome: null,
      };
    }
    decision = { ...decision, answer: withDynamicId(decision.answer, turn) };
    const latencyMs = performance.now() - arrivedAt;

    // After the claim (so a retry's deliveries count stays right), whether it succeeded or not:
    // when it failed the upsert stores the whole turn if PostgreSQL is back.
    const record = claim
      .catch(() => undefined)
      .then(() =>
        recordAnswer(
          pool,
          turn,
          { ...decision, answeredAt: new Date(), latencyMs },
          deps.emitDialogueTurns === true,
        ),
      )
      .then(
        () => {
          metrics.callbacks.inc({ answered_by: decision.answeredBy, outcome: "stored" });
        },
        (err: unknown) => {
          metrics.callbacks.inc({ answered_by: decision.answeredBy, outcome: "storage_failed" });
          logger.warn(
            {
              callId: turn.callId,
              contentType: turn.contentType,
              action: decision.answer.action,
              err,
            },
            "smart-call turn answered but not stored (PostgreSQL unavailable?)",
          );
        },
      );
    track(record);
    await settleWithin(record, deadlineAt - performance.now());
    return { ...decision, duplicate: false, latencyMs };
  }

  return {
    answer,
    async close() {
      rules.close();
      await Promise.allSettled([...pending]);
      await webhook?.close();
    },
  };
}
