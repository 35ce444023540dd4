/** The simulator's fault box: queued faults first, then a failure rate over the rest. */
import { describe, expect, it } from "vitest";

import { FaultBox, type Fault } from "../../../src/simulator/faults.js";

const e503: Fault = { kind: "error", status: 503, code: "ServiceUnavailable" };
const drop: Fault = { kind: "drop" };

/** A fixed sequence of "random" numbers, repeated. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

describe("FaultBox failure rate", () => {
  it("fails the share of requests the rate says, after the queued faults", () => {
    const box = new FaultBox();
    box.inject("detail", drop, 1);
    box.setFailureRate("detail", e503, 0.2, sequence(0.1, 0.5, 0.9, 0.3, 0.19));
    const taken = Array.from({ length: 6 }, () => box.take("detail"));
    expect(taken).toEqual([drop, e503, undefined, undefined, undefined, e503]);
    expect(box.take("mns")).toBeUndefined();
  });

  it("stops at rate 0 and on clear()", () => {
    const box = new FaultBox();
    box.setFailureRate("detail", e503, 1);
    expect(box.take("detail")).toEqual(e503);
    box.setFailureRate("detail", e503, 0);
    expect(box.take("detail")).toBeUndefined();
    box.setFailureRate("detail", e503, 1);
    box.clear();
    expect(box.take("detail")).toBeUndefined();
  });
});
