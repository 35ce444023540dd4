/**
 * The one micro-batcher: concurrent callers' items are pooled and handed to `run` as one array,
 * so that many small requests cost a handful of set-based statements. Used by the intake's group
 * commit, the persist worker (receipts of concurrent jobs in one transaction) and reconcile's
 * reads and writes.
 *
 * Hand-written on purpose: DataLoader, the well-kept batcher, schedules per tick and caches by
 * key, splits one caller's group across batches at maxBatchSize, and has no way to drain the
 * batches in flight on stop; each of the three users needs the opposite of one of these.
 *
 * A batch holds items up to `maxWeight` in total (an item never straddles two batches; an item
 * heavier than `maxWeight` goes alone). When it closes is one of two policies:
 *  - `maxWaitMs`: a time window opened by its first item (and closed early when full);
 *  - `maxInFlight`: group commit: while fewer batches run, the next goes at once (so an idle
 *    batcher adds no latency); items arriving while every slot is busy wait and go together.
 */

export interface BatcherOptions<T, R> {
  /** Total weight of a batch, at most (one item alone may exceed it). */
  maxWeight: number;
  /** An item's weight (rows it carries); 1 by default. */
  weigh?: (item: T) => number;
  /** Must return one result per item, in order; a throw rejects every item of the batch. */
  run(items: T[]): Promise<R[]>;
  /** Policy: close a batch this long after its first item. */
  maxWaitMs?: number;
  /** Policy: run a batch whenever fewer than this many run. */
  maxInFlight?: number;
}

export interface Batcher<T, R> {
  add(item: T): Promise<R>;
  /** Run whatever is queued now and wait until every batch has finished. */
  flush(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  weight: number;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export function createBatcher<T, R>(options: BatcherOptions<T, R>): Batcher<T, R> {
  const weigh = options.weigh ?? (() => 1);
  const grouping = options.maxInFlight !== undefined;
  if (grouping === (options.maxWaitMs !== undefined)) {
    throw new TypeError("createBatcher: give exactly one of maxWaitMs and maxInFlight");
  }
  let queue: Pending<T, R>[] = [];
  let queuedWeight = 0;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  /** Start one batch: the longest prefix of the queue within maxWeight (at least one item). */
  function runOne(): void {
    clearTimeout(timer);
    timer = undefined;
    let n = 0;
    let weight = 0;
    while (n < queue.length && (n === 0 || weight + (queue[n]?.weight ?? 0) <= options.maxWeight)) {
      weight += queue[n]?.weight ?? 0;
      n++;
    }
    if (n === 0) {
      return;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    queuedWeight -= weight;
    const done = (async () => {
      try {
        const results = await options.run(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(results[i] as R));
      } catch (err) {
        batch.forEach((p) => p.reject(err));
      }
    })();
    inFlight.add(done);
    void done.finally(() => {
      inFlight.delete(done);
      if (grouping) {
        pump();
      }
    });
  }

  function pump(): void {
    while (inFlight.size < (options.maxInFlight ?? 0) && queue.length > 0) {
      runOne();
    }
  }

  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        const weight = weigh(item);
        if (grouping) {
          queue.push({ item, weight, resolve, reject });
          queuedWeight += weight;
          pump();
          return;
        }
        if (queue.length > 0 && queuedWeight + weight > options.maxWeight) {
          runOne();
        }
        queue.push({ item, weight, resolve, reject });
        queuedWeight += weight;
        if (queuedWeight >= options.maxWeight) {
          runOne();
        } else {
          timer ??= setTimeout(runOne, options.maxWaitMs);
        }
      });
    },
    async flush() {
      while (queue.length > 0 || inFlight.size > 0) {
        if (grouping) {
          pump();
        } else {
          runOne();
        }
        await Promise.all([...inFlight]);
      }
    },
  };
}
