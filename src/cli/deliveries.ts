/**
 * `voice-receipts deliveries list|replay|resume`: what was delivered to the webhook endpoints,
 * re-sending by time range, and resuming a paused endpoint. Registered on the program by
 * registerDeliveriesCommand (one line in program.ts); the actions load their modules lazily so
 * `--help` stays fast.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import type pg from "pg";

import type { Config } from "../config/index.js";
import { EVENT_TYPES, type EventType } from "../domain/outcomeEvents.js";
import { ConfigError } from "../errors.js";
import { withPool } from "./withPool.js";

export interface DeliveriesIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  now?: Date;
}

const defaultIo = (): DeliveriesIo => ({
  env: process.env,
  out: (t) => process.stdout.write(t),
});

const DURATION = /^(\d{1,9})(m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * An instant: ISO-8601 with an offset or Z (2026-11-20T10:00:00+08:00), a Beijing date
 * (2026-11-20, its midnight +08:00), or a duration ago (90m, 6h, 2d, 1w).
 */
export function parseInstant(value: string, now: Date = new Date()): Date {
  const v = value.trim();
  const ago = DURATION.exec(v);
  if (ago) {
    return new Date(now.getTime() - Number(ago[1]) * (UNIT_MS[ago[2] as string] as number));
  }
  const d = /^\d{4}-\d{2}-\d{2}$/.test(v)
    ? new Date(`${v}T00:00:00+08:00`)
    : /(Z|[+-]\d{2}:?\d{2})$/.test(v)
      ? new Date(v)
      : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError(
      "must be an ISO-8601 time with offset (2026-11-20T10:00:00+08:00), a Beijing date (2026-11-20) or a duration ago (90m, 6h, 2d, 1w)",
    );
  }
  return d;
}

const withDeliveriesPool = <T>(
  io: DeliveriesIo,
  fn: (pool: pg.Pool, config: Config) => Promise<T>,
): Promise<T> => withPool(io.env, { max: 2, applicationName: "voice-receipts deliveries" }, fn);

export async function listCommand(
  opts: { status?: string; since?: Date; limit: number; format: "table" | "json" },
  io: DeliveriesIo = defaultIo(),
): Promise<void> {
  await withDeliveriesPool(io, async (pool) => {
    const { listDeliveries } = await import("../store/deliveries/list.js");
    const { redactEndpoint } = await import("../delivery/endpointsConfig.js");
    const { isoBeijing } = await import("../domain/outcomeEvents.js");
    const rows = await listDeliveries(pool, opts);
    const view = rows.map((r) => ({
      event_id: r.event_id,
      type: r.event_type,
      call_id: r.call_id,
      endpoint: redactEndpoint(r.endpoint),
      status: r.status,
      attempts: r.attempt,
      occurred_at: isoBeijing(r.event_occurred_at),
      last_attempt_at: isoBeijing(r.attempted_at),
      next_attempt_at: r.status === "pending" ? isoBeijing(r.due_at) : null,
      http_status: r.http_status,
      error: r.error,
    }));
    if (opts.format === "json") {
      io.out(`${JSON.stringify(view, null, 2)}\n`);
      return;
    }
    const { default: Table } = await import("cli-table3");
    const table = new Table({
      head: ["event", "type", "call_id", "endpoint", "status", "attempts", "last attempt", "why"],
    });
    for (const v of view) {
      table.push([
        v.event_id,
        v.type,
        v.call_id ?? "",
        v.endpoint,
        v.status,
        v.attempts,
        v.last_attempt_at ?? "",
        v.error ?? (v.http_status === null ? "" : `HTTP ${v.http_status}`),
      ]);
    }
    io.out(`${table.toString()}\n${view.length} deliveries\n`);
  });
}

export async function replayCommand(
  opts: { since: Date; until?: Date; endpoint?: string; type?: EventType },
  io: DeliveriesIo = defaultIo(),
): Promise<void> {
  await withDeliveriesPool(io, async (pool, config) => {
    const { eventsBetween } = await import("../store/events/read.js");
    const { insertReplayDeliveries } = await import("../store/deliveries/fanOut.js");
    const { routeEvents } = await import("../delivery/worker.js");
    const { redactEndpoint } = await import("../delivery/endpointsConfig.js");
    const endpoints = config.webhooks.endpoints.filter(
      (e) =>
        opts.endpoint === undefined ||
        e.url === opts.endpoint ||
        redactEndpoint(e.url) === opts.endpoint,
    );
    if (endpoints.length === 0) {
      throw new ConfigError(
        opts.endpoint === undefined
          ? "deliveries replay: no webhook endpoint is configured (VMS_WEBHOOK_URLS, VMS_WEBHOOK_CONFIG)"
          : "deliveries replay: --endpoint names no configured endpoint (VMS_WEBHOOK_URLS, VMS_WEBHOOK_CONFIG)",
      );
    }
    const until = opts.until ?? io.now ?? new Date();
    const events = await eventsBetween(pool, {
      since: opts.since,
      until,
      ...(opts.type ? { type: opts.type } : {}),
    });
    // An explicit --type sends opt-in types too; otherwise each endpoint's own filter decides.
    const routed = opts.type
      ? routeEvents(
          endpoints.map((e) => ({ ...e, types: [...e.types, opts.type as EventType] })),
          events,
          0,
        )
      : routeEvents(endpoints, events, 0);
    const n = await insertReplayDeliveries(pool, routed);
    io.out(
      `queued ${n} deliveries of ${events.length} events from ${opts.since.toISOString()} ` +
        `to ${until.toISOString()} for ${endpoints.length} endpoint(s); the workers send them ` +
        "with the same webhook-id as before\n",
    );
  });
}

export async function resumeCommand(
  endpoint: string,
  io: DeliveriesIo = defaultIo(),
): Promise<void> {
  await withDeliveriesPool(io, async (pool, config) => {
    const { resumeEndpoint, listEndpointStates } = await import("../store/deliveries/endpoints.js");
    const { redactEndpoint } = await import("../delivery/endpointsConfig.js");
    const known = [
      ...config.webhooks.endpoints.map((e) => e.url),
      ...(await listEndpointStates(pool)).map((s) => s.url),
    ];
    const url = known.find((u) => u === endpoint || redactEndpoint(u) === endpoint) ?? endpoint;
    const due = await resumeEndpoint(pool, url);
    io.out(
      due === null
        ? `${redactEndpoint(url)} is not paused; nothing to do\n`
        : `resumed ${redactEndpoint(url)}: ${due} pending deliveries are due now\n`,
    );
  });
}

export function registerDeliveriesCommand(program: Command): void {
  const instant = (v: string) => parseInstant(v);
  const d = program
    .command("deliveries")
    .description("outcome events delivered to the webhook endpoints: list, replay, resume");
  d.command("list")
    .description("the latest attempt of each event at each endpoint")
    .addOption(
      new Option("--status <status>", "only this status").choices([
        "pending",
        "delivered",
        "failed",
        "dead",
      ]),
    )
    .option("--since <time>", "events since (ISO-8601, YYYY-MM-DD Beijing, or 6h/2d ago)", instant)
    .option("--limit <n>", "at most this many rows", (v) => Number(v), 1000)
    .addOption(
      new Option("--format <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .action(
      async (o: { status?: string; since?: Date; limit: number; format: "table" | "json" }) => {
        await listCommand(o);
      },
    );
  d.command("replay")
    .description("send the events of a time range again (same webhook-id: receivers dedup)")
    .requiredOption("--since <time>", "first event time (inclusive)", instant)
    .option("--until <time>", "last event time (exclusive; default now)", instant)
    .option("--endpoint <url>", "only to this endpoint")
    .addOption(new Option("--type <type>", "only events of this type").choices(EVENT_TYPES))
    .action(async (o: { since: Date; until?: Date; endpoint?: string; type?: EventType }) => {
      await replayCommand(o);
    });
  d.command("resume")
    .description("resume a paused endpoint; its waiting deliveries are sent now")
    .argument("<endpoint>", "the endpoint URL (as configured, or as listed)")
    .action(async (endpoint: string) => {
      await resumeCommand(endpoint);
    });
}
