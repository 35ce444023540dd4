/**
 * Configuration of outcome delivery (src/delivery/): the webhook endpoints (checked by
 * src/delivery/endpointsConfig.ts), timeouts, the retry schedule, when to pause an endpoint.
 */
import {
  loadEndpoints,
  parseDuration,
  parseRetrySchedule,
  type WebhookEndpoint,
} from "../delivery/endpointsConfig.js";

import { intInRange, optionalString, parsedText, type Parsed } from "./parse.js";

export const deliveryEnv = {
  VMS_WEBHOOK_URLS: optionalString,
  VMS_WEBHOOK_SECRET: optionalString,
  VMS_WEBHOOK_CONFIG: optionalString,
  VMS_WEBHOOK_TIMEOUT_MS: intInRange(100, 300_000, 15_000),
  VMS_WEBHOOK_RETRY_SCHEDULE: parsedText("0s,5s,5m,30m,2h,5h,10h,10h", parseRetrySchedule),
  VMS_WEBHOOK_PAUSE_AFTER: parsedText("5d", (s) => {
    const ms = parseDuration(s);
    return ms === undefined || ms < 1000
      ? { ok: false, problem: `must be a duration of at least 1s such as 12h or 5d, got "${s}"` }
      : { ok: true, value: ms };
  }),
  VMS_WEBHOOK_CONCURRENCY: intInRange(1, 256, 8),
};

/** Outcome delivery (src/delivery/); no endpoints: events are still written and NOTIFYed. */
export interface WebhooksConfig {
  endpoints: WebhookEndpoint[];
  timeoutMs: number;
  /** Wait before each attempt (the first is usually 0); after the last failure: dead. */
  retryScheduleMs: number[];
  /** An endpoint that answered nothing but failures for this long is paused. */
  pauseAfterMs: number;
  /** Requests in flight per worker process. */
  concurrency: number;
}

/** The endpoints' problems, each a line naming its variable. */
function endpointsOf(
  urls: string | undefined,
  secret: string | undefined,
  configPath: string | undefined,
  problems: string[],
): WebhookEndpoint[] {
  const hooks = loadEndpoints({ urls, secret, configPath });
  problems.push(...hooks.problems.map(([name, message]) => `  ${name}: ${message}`));
  return hooks.endpoints;
}

export function webhooksConfig(e: Parsed<typeof deliveryEnv>, problems: string[]): WebhooksConfig {
  return {
    endpoints: endpointsOf(
      e.VMS_WEBHOOK_URLS,
      e.VMS_WEBHOOK_SECRET,
      e.VMS_WEBHOOK_CONFIG,
      problems,
    ),
    timeoutMs: e.VMS_WEBHOOK_TIMEOUT_MS,
    retryScheduleMs: e.VMS_WEBHOOK_RETRY_SCHEDULE,
    pauseAfterMs: e.VMS_WEBHOOK_PAUSE_AFTER,
    concurrency: e.VMS_WEBHOOK_CONCURRENCY,
  };
}

/**
 * The endpoints' problems from the raw environment, for when the other variables did not parse:
 * so that every bad variable is named at once.
 */
export function webhookProblems(env: Record<string, string | undefined>): string[] {
  const blank = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const problems: string[] = [];
  endpointsOf(
    blank(env.VMS_WEBHOOK_URLS),
    blank(env.VMS_WEBHOOK_SECRET),
    blank(env.VMS_WEBHOOK_CONFIG),
    problems,
  );
  return problems;
}
