/**
 * Back-pressure on push bytes in flight: a request is admitted (its body read, parsed and
 * written) only while the bodies held stay within a budget; the others wait, first come first
 * served, WITHOUT their bodies being read. Node's HTTP parser stops reading a socket whose
 * request is not consumed, so a waiting push costs a socket and a kernel buffer, not heap; the
 * sender simply sees a slower server. What the ingester holds is therefore bounded by design (a
 * parsed 100-receipt body is ~10× its bytes in heap while its INSERT runs), not by V8's heap
 * limit, and a flood is answered later rather than with 503 — storage is not unavailable, only
 * busy.
 *
 * Hand-written (a few lines) because the count-based limiters of the stack (p-limit,
 * cockatiel's bulkhead) cannot weigh a request by its size.
 */

export interface BytesInFlight {
  /**
   * Resolves once `bytes` fit within the budget, holding them until the returned release is
   * called (once; later calls do nothing). A request larger than the whole budget is admitted
   * alone, when nothing else is held, so it is slowed, never refused.
   */
  acquire(bytes: number): Promise<() => void>;
  /** Bytes held now. */
  held(): number;
  /** Most bytes ever held at once. */
  peak(): number;
  /** Requests waiting for room. */
  waiting(): number;
}

export function createBytesInFlight(budget: number): BytesInFlight {
  let held = 0;
  let peak = 0;
  const queue: { bytes: number; admit: () => void }[] = [];

  const fits = (bytes: number) => held === 0 || held + bytes <= budget;

  function take(bytes: number): () => void {
    held += bytes;
    peak = Math.max(peak, held);
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      held -= bytes;
      // Strict arrival order: a large body at the head is not overtaken for ever by small ones.
      while (queue.length > 0 && fits((queue[0] as { bytes: number }).bytes)) {
        (queue.shift() as { admit: () => void }).admit();
      }
    };
  }

  return {
    acquire(bytes) {
      if (queue.length === 0 && fits(bytes)) {
        return Promise.resolve(take(bytes));
      }
      return new Promise((resolve) => {
        queue.push({ bytes, admit: () => resolve(take(bytes)) });
      });
    },
    held: () => held,
    peak: () => peak,
    waiting: () => queue.length,
  };
}
