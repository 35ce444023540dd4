/** What the simulator counts, for tests and for `/__control/counters`. */

export interface SimCounters {
  mns: {
    sends: number;
    receiveRequests: number;
    emptyReceives: number;
    messagesReceived: number;
    /** Receives of a message that had been received before and was not deleted in time. */
    redeliveries: number;
    deletes: number;
    deleteFailures: number;
    visibilityChanges: number;
    authFailures: number;
    faults: number;
  };
  tokens: { issued: number; refused: number };
  detail: {
    /** QueryCallDetailByCallId calls answered (not throttled, any outcome). */
    calls: number;
    /** Of those, answered with `Data: ""`. */
    emptyData: number;
    /**
     * The empty answers by the call's kind (`unknown` for a CallId the simulator does not know),
     * `:no-out-id` appended for calls placed without an out_id: where a client's requests go.
     */
    emptyByKind: Record<string, number>;
    throttled: number;
    /** Most answered calls in any sliding 1 s window (never above the QPS limit). */
    maxPerSecond: number;
    /** Most calls including throttled ones in any sliding 1 s window: the client's own rate. */
    maxAttemptsPerSecond: number;
    /**
     * Shortest time in which QPS + 1 requests (throttled ones included) arrived, ms: below 1000
     * is a sliding second over the limit; how far above 1000 tells how close the client came,
     * a finer figure than the count (undefined until QPS + 1 requests came).
     */
    minSpanOverLimitMs?: number;
    faults: number;
  };
  rpcAuthFailures: number;
}

export function createCounters(): SimCounters {
  return {
    mns: {
      sends: 0,
      receiveRequests: 0,
      emptyReceives: 0,
      messagesReceived: 0,
      redeliveries: 0,
      deletes: 0,
      deleteFailures: 0,
      visibilityChanges: 0,
      authFailures: 0,
      faults: 0,
    },
    tokens: { issued: 0, refused: 0 },
    detail: {
      calls: 0,
      emptyData: 0,
      emptyByKind: {},
      throttled: 0,
      maxPerSecond: 0,
      maxAttemptsPerSecond: 0,
      faults: 0,
    },
    rpcAuthFailures: 0,
  };
}

export function resetCounters(counters: SimCounters): void {
  const fresh = createCounters();
  Object.assign(counters.mns, fresh.mns);
  Object.assign(counters.tokens, fresh.tokens);
  Object.assign(counters.detail, fresh.detail);
  counters.rpcAuthFailures = 0;
}

/** Counts events in a sliding window of `windowMs` and remembers the highest count seen. */
export class SlidingWindow {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 1000) {}

  /** How many events fall in (now - window, now]. */
  count(nowMs: number): number {
    while (this.times.length > 0 && (this.times[0] as number) <= nowMs - this.windowMs) {
      this.times.shift();
    }
    return this.times.length;
  }

  /** Record an event; returns the count in the window including it. */
  add(nowMs: number): number {
    const n = this.count(nowMs) + 1;
    this.times.push(nowMs);
    return n;
  }
}
