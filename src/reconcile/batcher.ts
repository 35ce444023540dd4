/**
 * A micro-batcher: items added within `maxWaitMs` (or until `maxItems`) are handed to `run` as
 * one array, and each caller gets the result for its own item. The reconcile worker uses it so
 * that 100 jobs a second cost a handful of set-based statements instead of 100 round trips, the
 * way the persistence workers batch their receipts.
 */

export interface BatcherOptions<T, R> {
  maxItems: number;
  maxWaitMs: number;
  /** Must return one result per item, in order; a throw rejects every item of the batch. */
  run(items: T[]): Promise<R[]>;
}

export interface Batcher<T, R> {
  add(item: T): Promise<R>;
  /** Run whatever is queued now and wait for every batch in flight. */
  flush(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export function createBatcher<T, R>(options: BatcherOptions<T, R>): Batcher<T, R> {
  let queue: Pending<T, R>[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  function runBatch(): void {
    clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) {
      return;
    }
    const done = (async () => {
      try {
        const results = await options.run(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(results[i] as R));
      } catch (err) {
        batch.forEach((p) => p.reject(err));
      }
    })();
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }

  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (queue.length >= options.maxItems) {
          runBatch();
        } else {
          timer ??= setTimeout(runBatch, options.maxWaitMs);
        }
      });
    },
    async flush() {
      runBatch();
      await Promise.all([...inFlight]);
    },
  };
}
