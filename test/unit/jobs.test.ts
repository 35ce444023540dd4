import type { Queue } from "bullmq";
import { describe, expect, it } from "vitest";

import {
  JOB_CATALOG,
  addJobs,
  parseJob,
  prepareJobs,
  reconcileJobId,
} from "../../src/pipeline/jobs.js";

describe("the job catalogue", () => {
  it("refuses an invalid reconcile payload and keeps the valid jobs beside it", () => {
    const { bulk, invalid } = prepareJobs("reconcile", [
      { data: { callId: "116012854210^104753038210" }, jobId: reconcileJobId("a"), delayMs: 1.6 },
      { data: { callId: "" }, jobId: "rc-empty" },
      { data: { callId: "x".repeat(513) }, jobId: "rc-long" },
      { data: { callId: "b", transient: -1 }, jobId: "rc-negative" },
    ]);
    expect(invalid.map((j) => j.jobId)).toEqual(["rc-empty", "rc-long", "rc-negative"]);
    expect(invalid[0]?.reason).toContain("callId");
    expect(bulk).toHaveLength(1);
    expect(bulk[0]).toMatchObject({
      name: "reconcile",
      data: { callId: "116012854210^104753038210" },
      opts: { ...JOB_CATALOG.reconcile.options, jobId: "rc-a", delay: 2 },
    });
  });

  it("refuses an invalid persist payload", () => {
    const { bulk, invalid } = prepareJobs("persist", [
      { data: { receiptIds: [] }, jobId: "p-empty" },
      { data: { receiptIds: [1.5] }, jobId: "p-fraction" },
      { data: { receiptIds: [1, 2] }, jobId: "p-ok" },
    ]);
    expect(invalid.map((j) => j.jobId)).toEqual(["p-empty", "p-fraction"]);
    expect(bulk.map((b) => b.opts.jobId)).toEqual(["p-ok"]);
  });

  it("validates again on dequeue", () => {
    expect(parseJob("reconcile", { callId: "c", transient: 2 }).success).toBe(true);
    expect(parseJob("reconcile", { callId: 7 }).success).toBe(false);
    expect(parseJob("persist", { receiptIds: ["1"] }).success).toBe(false);
  });

  it("refuses to add a job to a queue that is not its own", async () => {
    const receipts = { name: "receipts" } as Queue;
    await expect(addJobs(receipts, "reconcile", [])).rejects.toThrow(/belong in queue reconcile/);
  });
});
