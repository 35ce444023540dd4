/**
 * The job catalogue: every BullMQ job this program creates, with its payload schema and
 * retry policy, in one place (trigger.dev's worker catalog pattern). Payloads are validated on
 * enqueue and again on dequeue.
 */
import { createHash } from "node:crypto";

import type { JobsOptions } from "bullmq";
import { z } from "zod";

export const QUEUE_NAMES = { receipts: "receipts" } as const;

interface CatalogEntry {
  queue: (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
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
} as const satisfies Record<string, CatalogEntry>;

export type JobName = keyof typeof JOB_CATALOG;
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_CATALOG)[N]["schema"]>;

/**
 * Deterministic job id for a set of receipt ids: the same durable receipts enqueued twice (a
 * re-push, a sweep) collapse into one job while it exists. BullMQ ids must not contain ':' and
 * must not be all digits.
 */
export function persistJobId(receiptIds: readonly number[], salt = ""): string {
  const h = createHash("sha1");
  for (const id of [...receiptIds].sort((a, b) => a - b)) {
    h.update(`${id},`);
  }
  h.update(salt);
  return `p-${h.digest("hex")}`;
}
