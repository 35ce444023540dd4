/**
 * `replay`: archives → the same intake as live receipts (source `replay`), in batches with
 * bounded concurrency, so a replayed receipt becomes exactly what it would have become had it
 * arrived by MNS or HTTP, and one that already arrived is a duplicate (dedup keys).
 *
 * Memory is bounded: one record at a time from the readers, at most `batchSize` items buffered
 * per message type, at most `concurrency` batches in flight (reading waits for a free slot).
 *
 * What happens after intake (`mode`):
 * - `apply`: the batch is applied to calls/call_events/recordings in-process with
 *   applyReceipts, right after it is durable (no daemon needed);
 * - `queue`: persist jobs are queued and the persist workers of a running daemon apply them;
 * - `wait`: as `queue`, then wait until the workers have processed every replayed receipt.
 *
 * Over 300 lines: runReplay is one pipeline (read, batch, accept, apply or queue, wait) whose
 * stages share its counters and its first-failure stop; the summary it fills is defined here too.
 */
import pLimit, { type LimitFunction } from "p-limit";
import type pg from "pg";

import { inferMessageType } from "../domain/envelope.js";
import { rejectedText, UnparsableItem } from "../domain/json.js";
import { normalizeReceipt } from "../domain/receipt.js";
import { AppError, coerceError } from "../errors.js";
import { sleep } from "../infra/sleep.js";
import type { Intake, IntakeItem, IntakeResult } from "../pipeline/intake.js";
import { applyIsolated } from "../pipeline/isolate.js";
import type { PersistResult } from "../pipeline/persist.js";
import { isTransactionConflict } from "../store/pgErrors.js";
import { unprocessedIds } from "../store/receipts/reads.js";
import type { RejectedRow } from "../store/rejectedReceipts/insert.js";
import { readFile, type ReplayFile } from "./files.js";
import { typeFromPath } from "./formats.js";
import { markCallsSkipped } from "./noReconcile.js";
import type { Progress, ProgressSnapshot } from "./progress.js";
import { badRecord, type ReplayRecord } from "./records.js";

export type ApplyMode = "apply" | "queue" | "wait";

export interface ReplayOptions {
  /** `--type`: the message type of every receipt read. */
  type?: string | undefined;
  /** false with `--no-reconcile`: the replayed calls get reconcile_status = 'skipped'. */
  reconcile: boolean;
  mode: ApplyMode;
  /** Receipts per intake batch (and per in-process apply transaction). */
  batchSize: number;
  /** Batches in flight at once. */
  concurrency: number;
  signal?: AbortSignal | undefined;
}

export interface ReplayDeps {
  pool: pg.Pool;
  intake: Intake;
  progress: Progress;
  /** `wait` mode: persist workers connected to the queue, for a hint when there are none. */
  workerCount?: () => Promise<number>;
  /** Poll interval while waiting for workers (tests shorten it). */
  waitPollMs?: number;
}

export interface RejectedSample {
  location: string;
  reason: string;
}

export interface ReplaySummary {
  files: number;
  bytes: number;
  /** Receipts read, rejected ones included. */
  read: number;
  /** New receipts, durable now. */
  accepted: number;
  /** Receipts already received before (by any source). */
  duplicates: number;
  /** Lines and receipts that went to rejected_receipts (again, if they were there already). */
  rejected: number;
  /** The first few rejections, for the summary line. */
  firstRejected: RejectedSample[];
  mode: ApplyMode;
  /** `apply`: receipts applied in-process; `wait`: receipts the workers applied. */
  applied: number;
  /** `apply`: receipts that could not be applied (dead-lettered, see receipts.error). */
  deadLettered: number;
  /** `queue`/`wait`: receipts queued for the workers; after `wait`, those still unprocessed. */
  queued: number;
  /** Calls marked reconcile_status = 'skipped' (`--no-reconcile`). */
  skippedCalls: number;
  elapsedMs: number;
  interrupted: boolean;
}

export const REJECTED_SAMPLES = 5;

export const UNKNOWN_TYPE_REASON =
  "message type unknown: no --type, no MessageType property, no type in the file name, " +
  "and its fields match no known receipt type";

/**
 * At most `concurrency` tasks at once (p-limit). Reading waits while a submitted task still
 * waits for a slot, so no more than the running batches are held in memory; the first failure
 * is kept, tasks not yet started after it are skipped, and submit/drain throw it.
 */
class TaskPool {
  private readonly limit: LimitFunction;
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async submit(task: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    const p: Promise<void> = this.limit(() => (this.failed ? Promise.resolve() : task()))
      .catch((err: unknown) => {
        this.failure ??= err ?? new Error("task failed");
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    while (this.limit.pendingCount > 0) {
      await Promise.race(this.inflight);
    }
    this.throwIfFailed();
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw this.failure;
    }
  }
}

/** A failure of the file system (open, read), as opposed to one of PostgreSQL or Redis. */
function isFileError(err: unknown): boolean {
  const syscall = (err as { syscall?: unknown }).syscall;
  return typeof syscall === "string" && FILE_SYSCALLS.has(syscall);
}

const FILE_SYSCALLS = new Set(["open", "read", "stat", "lstat", "fstat", "close"]);

async function applyWithRetry(pool: pg.Pool, ids: readonly number[]): Promise<PersistResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyIsolated(pool, ids);
    } catch (err) {
      if (attempt >= 5 || !isTransactionConflict(err)) {
        throw err;
      }
      await sleep(Math.random() * 50 * 2 ** attempt);
    }
  }
}

/** Intake is idempotent (dedup keys), so a batch that met a brief outage is simply sent again. */
async function acceptWithRetry(
  intake: Intake,
  type: string,
  items: readonly IntakeItem[],
): Promise<IntakeResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await intake.accept({ source: "replay", messageType: type, items });
    } catch (err) {
      if (attempt >= 4 || !(err instanceof AppError && err.retryable)) {
        throw err;
      }
      await sleep(500 * 2 ** attempt);
    }
  }
}

export async function runReplay(
  files: readonly ReplayFile[],
  options: ReplayOptions,
  deps: ReplayDeps,
): Promise<ReplaySummary> {
  const { pool, intake } = deps;
  const started = Date.now();
  const summary: ReplaySummary = {
    files: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    read: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    firstRejected: [],
    mode: options.mode,
    applied: 0,
    deadLettered: 0,
    queued: 0,
    skippedCalls: 0,
    elapsedMs: 0,
    interrupted: false,
  };
  const tasks = new TaskPool(Math.max(1, options.concurrency));
  const buffers = new Map<string, IntakeItem[]>();
  let bad: RejectedRow[] = [];
  /** `wait` mode: the replayed receipts the workers still have to process. */
  const toWait: number[] = [];
  let bytesBefore = 0;
  let current: { file: string; bytesRead(): number } = { file: "", bytesRead: () => 0 };
  let waitDone = 0;
  let waitTotal = 0;
  let phase: ProgressSnapshot["phase"] = "reading";

  const sample = (location: string, reason: string) => {
    if (summary.firstRejected.length < REJECTED_SAMPLES) {
      summary.firstRejected.push({ location, reason });
    }
  };

  const submitItems = (type: string, items: IntakeItem[]) =>
    tasks.submit(async () => {
      if (!options.reconcile) {
        const marked = await markCallsSkipped(pool, type, items);
        summary.skippedCalls += marked;
      }
      const result = await acceptWithRetry(intake, type, items);
      summary.accepted += result.accepted;
      summary.duplicates += result.duplicates;
      summary.rejected += result.rejected;
      if (result.rejected > 0 && summary.firstRejected.length < REJECTED_SAMPLES) {
        // Intake keeps no per-item outcome; the invalid items are found again for the summary.
        for (const item of items) {
          const n = normalizeReceipt(type, item.raw);
          if (!n.ok) {
            sample(item.location ?? "?", n.reason);
          }
        }
      }
      if (result.receiptIds.length === 0) {
        return;
      }
      if (options.mode === "apply") {
        const applied = await applyWithRetry(pool, result.receiptIds);
        summary.applied += applied.applied;
        summary.deadLettered += applied.deadLettered;
      } else {
        // Counted like `accepted`: duplicates are queued again too (a stored receipt may never
        // have been applied), but counting them made `--wait` report more applied than new.
        summary.queued += result.newReceiptIds.length;
        if (options.mode === "wait") {
          toWait.push(...result.newReceiptIds);
        }
      }
    });

  const submitBad = (rows: RejectedRow[]) =>
    tasks.submit(async () => {
      await intake.reject(rows);
    });

  const addBad = async (row: RejectedRow) => {
    summary.rejected++;
    sample(row.location ?? "?", row.reason);
    bad.push(row);
    if (bad.length >= options.batchSize) {
      const rows = bad;
      bad = [];
      await submitBad(rows);
    }
  };

  const addRecord = async (record: ReplayRecord, fileType: string | null) => {
    summary.read++;
    const type =
      options.type ??
      record.type ??
      fileType ??
      (record.kind === "receipt" ? inferMessageType(record.raw) : null);
    if (record.kind === "bad") {
      const { raw, reason, location } = record;
      await addBad({ source: "replay", messageType: type, raw, reason, location });
      return;
    }
    if (record.raw instanceof UnparsableItem) {
      // Refused as text already (a number JSON.parse rounds): its own reason, whatever its type.
      const { text, reason } = record.raw;
      await addBad({
        source: "replay",
        messageType: type,
        raw: text,
        reason,
        location: record.location,
      });
      return;
    }
    if (type === null) {
      await addBad({
        source: "replay",
        messageType: null,
        raw: rejectedText(record.raw),
        reason: UNKNOWN_TYPE_REASON,
        location: record.location,
      });
      return;
    }
    let buffer = buffers.get(type);
    if (!buffer) {
      buffer = [];
      buffers.set(type, buffer);
    }
    buffer.push({ raw: record.raw, location: record.location });
    if (buffer.length >= options.batchSize) {
      buffers.delete(type);
      await submitItems(type, buffer);
    }
  };

  deps.progress.start(() => ({
    phase,
    bytesDone: bytesBefore + current.bytesRead(),
    bytesTotal: summary.bytes,
    read: summary.read,
    accepted: summary.accepted,
    duplicates: summary.duplicates,
    rejected: summary.rejected,
    file: current.file,
    waitDone,
    waitTotal,
  }));

  try {
    for (const file of files) {
      if (options.signal?.aborted || tasks.failed) {
        break;
      }
      const fileType = typeFromPath(file.nameSegments);
      try {
        const reading = await readFile(file, options.signal);
        current = { file: file.path, bytesRead: reading.bytesRead };
        for await (const record of reading.records) {
          await addRecord(record, fileType);
          if (options.signal?.aborted || tasks.failed) {
            break;
          }
        }
      } catch (err) {
        if (tasks.failed || !isFileError(err)) {
          throw err;
        }
        // An unreadable file is reported like a bad line; the run goes on with the next file.
        await addRecord(
          badRecord("", `cannot read the file: ${(err as Error).message}`, `${file.path}:0`),
          fileType,
        );
      }
      bytesBefore += file.size;
      current = { file: file.path, bytesRead: () => 0 };
    }
    summary.interrupted = options.signal?.aborted === true;
    // What was read is flushed even after an interruption: it is already counted as read.
    for (const [type, items] of buffers) {
      await submitItems(type, items);
    }
    buffers.clear();
    if (bad.length > 0) {
      await submitBad(bad);
      bad = [];
    }
    await tasks.drain();

    if (options.mode === "wait" && !summary.interrupted) {
      phase = "waiting";
      waitTotal = toWait.length;
      const left = await waitProcessed(pool, toWait, deps, options.signal, (n) => {
        waitDone = waitTotal - n;
      });
      summary.applied = waitTotal - left;
      summary.queued = left;
      summary.interrupted = options.signal?.aborted === true;
    }
  } catch (err) {
    throw new ReplayFailedError(summary, started, err);
  } finally {
    summary.elapsedMs = Date.now() - started;
    deps.progress.stop();
  }
  return summary;
}

/** A replay that stopped on an error, with what it had done until then. */
export class ReplayFailedError extends AppError {
  constructor(
    readonly summary: ReplaySummary,
    started: number,
    cause: unknown,
  ) {
    const e = coerceError(cause);
    super("REPLAY_FAILED", e.message, { cause: e });
    summary.elapsedMs = Date.now() - started;
  }
}

/**
 * Waits until none of `ids` is unprocessed any more; returns how many still are when the signal
 * aborts. Says once in a while when no persist worker seems to be connected.
 */
async function waitProcessed(
  pool: pg.Pool,
  ids: number[],
  deps: ReplayDeps,
  signal: AbortSignal | undefined,
  onLeft: (left: number) => void,
): Promise<number> {
  let pending = ids;
  let lastHint = Date.now();
  const poll = deps.waitPollMs ?? 500;
  for (;;) {
    const still: number[] = [];
    for (let i = 0; i < pending.length; i += 10_000) {
      still.push(...(await unprocessedIds(pool, pending.slice(i, i + 10_000))));
    }
    pending = still;
    onLeft(pending.length);
    if (pending.length === 0 || signal?.aborted) {
      return pending.length;
    }
    if (deps.workerCount && Date.now() - lastHint >= 15_000) {
      lastHint = Date.now();
      const workers = await deps.workerCount().catch(() => -1);
      if (workers === 0) {
        deps.progress.note(
          `replay: ${pending.length} receipts wait for a persist worker, and none is connected: ` +
            "start `voice-receipts run` (or `run --role worker`) with the same REDIS_URL and " +
            "VMS_QUEUE_PREFIX, or replay with --apply",
        );
      }
    }
    await sleep(poll);
  }
}
