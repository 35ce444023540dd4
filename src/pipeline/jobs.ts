/**
 * The job catalogue: every queue and every BullMQ job this program creates, with its payload
 * schema and retry policy, in one place (trigger.dev's worker catalog pattern). Payloads are
 * validated on enqueue (addJobs, the only way jobs are added) and again on dequeue (parseJob).
 */
import { createHash } from "node:crypto";

import type { JobsOptions, Queue } from "bullmq";
import { z } from "zod";

export const QUEUE_NAMES = { receipts: "receipts", reconcile: "reconcile" } as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

interface CatalogEntry {
  queue: QueueName;
  schema: z.ZodType;
  options: JobsOptions;
}

export const JOB_CATALOG = {
  /** Apply durable receipts (by id) to calls, call_events and recordings. */
  persist: {
    queue: QUEUE_NAMES.receipts,
    schema: z.object({
      receiptIds: z.array(z.number().int().positive()).min(1).max(1000),
    }),
    options: {
      // 1 s, 2 s, 4 s … : 15 attempts span several hours, far beyond a PostgreSQL restart.
      attempts: 15,
      backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
      removeOnComplete: { count: 1000, age: 3600 },
      removeOnFail: { count: 10_000 },
    },
  },
  /**
   * Reconcile one call against QueryCallDetailByCallId: one job per call, with a deterministic
   * id, in its own queue so that its delays and its rate limit never hold up persistence.
   */
  reconcile: {
    queue: QUEUE_NAMES.reconcile,
    schema: z.object({
      callId: z.string().min(1).max(512),
      /** Consecutive transient failures (5xx, network, refusals): drives their backoff only. */
      transient: z.number().int().nonnegative().optional(),
    }),
    options: {
      // Expected outcomes (empty answer, throttling, 5xx) never fail the job: it is moved back to
      // "delayed" without spending an attempt. Attempts are only for unexpected errors
      // (PostgreSQL down): 2 s … ~2.3 h. A job that fails anyway is removed and the scheduler's
      // recovery scan enqueues it again, so no call is ever left without a job for long.
      attempts: 13,
      backoff: { type: "exponential", delay: 2000, jitter: 0.5 },
      // Removed at once so the id is free for the next reconcile of the same call (a late
      // receipt); while the job exists, adding the same id again is a no-op: one job per call.
      removeOnComplete: true,
      removeOnFail: true,
    },
  },
} as const satisfies Record<string, CatalogEntry>;

export type JobName = keyof typeof JOB_CATALOG;
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_CATALOG)[N]["schema"]>;

/** One job to add: its payload, its deterministic id, and an optional delay. */
export interface JobSpec<N extends JobName> {
  data: JobPayload<N>;
  jobId: string;
  delayMs?: number;
}

/** A job the catalogue refused, with zod's reason. */
export interface InvalidJob {
  jobId: string;
  reason: string;
}

/** The BullMQ bulk entries for the valid specs, and the refused ones (pure; see addJobs). */
export function prepareJobs<N extends JobName>(name: N, specs: readonly JobSpec<N>[]) {
  const entry: CatalogEntry = JOB_CATALOG[name];
  const bulk: { name: N; data: unknown; opts: JobsOptions }[] = [];
  const invalid: InvalidJob[] = [];
  for (const spec of specs) {
    const parsed = entry.schema.safeParse(spec.data);
    if (!parsed.success) {
      invalid.push({ jobId: spec.jobId, reason: parsed.error.message });
      continue;
    }
    const delay =
      spec.delayMs === undefined ? {} : { delay: Math.max(0, Math.round(spec.delayMs)) };
    bulk.push({ name, data: parsed.data, opts: { ...entry.options, jobId: spec.jobId, ...delay } });
  }
  return { bulk, invalid };
}

/**
 * Validate and add jobs of one kind in one round trip. A refused payload fails only itself: the
 * valid jobs are added and the refused ones are returned for the caller to log.
 */
export async function addJobs<N extends JobName>(
  queue: Queue,
  name: N,
  specs: readonly JobSpec<N>[],
): Promise<InvalidJob[]> {
  if (queue.name !== JOB_CATALOG[name].queue) {
    throw new TypeError(
      `${name} jobs belong in queue ${JOB_CATALOG[name].queue}, not ${queue.name}`,
    );
  }
  const { bulk, invalid } = prepareJobs(name, specs);
  const [only] = bulk;
  if (bulk.length === 1 && only !== undefined) {
    // One job (an MNS batch, a small push) goes without addBulk's pipeline: ioredis builds each
    // pipeline by copying every BullMQ script onto it, the largest step of a one-job enqueue in
    // the MNS drain's profile (docs/benchmarks.md). Same script, same id, one round trip.
    await queue.add(only.name, only.data, only.opts);
  } else if (bulk.length > 1) {
    await queue.addBulk(bulk);
  }
  return invalid;
}

/** A dequeued job's payload, validated again (the worker maps a failure to UnrecoverableError). */
export function parseJob<N extends JobName>(
  name: N,
  data: unknown,
): { success: true; data: JobPayload<N> } | { success: false; error: z.ZodError } {
  const schema: z.ZodType = JOB_CATALOG[name].schema;
  const parsed = schema.safeParse(data);
  return parsed.success
    ? { success: true, data: parsed.data as JobPayload<N> }
    : { success: false, error: parsed.error };
}

/**
 * Deterministic job id for a set of receipt ids: the same durable receipts enqueued twice (a
 * re-push, a sweep) collapse into one job while it exists. Receipt ids restart at 1 in every
 * database, so the id starts with the database's scope (src/pipeline/prefixBinding.ts): jobs
 * of another database, or of an earlier incarnation of this one, never share an id with ours.
 * BullMQ ids must not contain ':' and must not be all digits.
 */
export function persistJobId(receiptIds: readonly number[], salt = "", scope = "x"): string {
  const h = createHash("sha1");
  for (const id of [...receiptIds].sort((a, b) => a - b)) {
    h.update(`${id},`);
  }
  h.update(salt);
  return `p-${scope}-${h.digest("hex")}`;
}

/**
 * `rc-<call_id>`: BullMQ ids must not contain ':' and must not be all digits; call_ids look like
 * `116012854210^104753038210` and are kept readable, ':' and '%' are escaped.
 */
export function reconcileJobId(callId: string): string {
  return `rc-${callId.replace(/[%:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
