/**
 * The simulated MNS queue API driven by the real @alicloud/mns client over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Simulator } from "../../../src/simulator/index.js";
import { QUEUE, mnsClient, rejection, startTestSimulator } from "./fixture.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

function freshQueue(name: string, visibilityTimeoutSeconds?: number): string {
  sim.control.createQueue(name, {
    messageType: "VoiceReport",
    ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
  });
  return name;
}

describe("MNS queue API", () => {
  it("accepts requests signed with the account key and round-trips an escaped body", async () => {
    const client = mnsClient(sim);
    const q = freshQueue("roundtrip");
    const sent = await client.sendMessage(q, { MessageBody: "a &amp; &lt;b&gt; 测试" });
    expect(sent.code).toBe(201);
    expect(sent.body.MessageId).toMatch(/^[0-9A-F]{32}$/);

    const got = await client.receiveMessage(q, 1);
    expect(got.code).toBe(200);
    expect(got.body.MessageBody).toBe("a & <b> 测试");
    expect(got.body.MessageBodyMD5).toBe(sent.body.MessageBodyMD5);
    expect(got.body.ReceiptHandle).toMatch(/^[A-Za-z0-9-]+$/);
    expect(got.body.DequeueCount).toBe("1");
    expect((await client.deleteMessage(q, got.body.ReceiptHandle)).code).toBe(204);
  });

  it("refuses a wrong secret with SignatureDoesNotMatch and an unknown key with InvalidAccessKeyId", async () => {
    const wrongSecret = mnsClient(sim, { ...sim.credentials, accessKeySecret: "not-the-secret" });
    const err = await rejection(wrongSecret.receiveMessage(QUEUE, 1));
    expect(err.name).toBe("MNSSignatureDoesNotMatchError");
    expect(err.message).not.toContain("not-the-secret");

    const unknown = mnsClient(sim, { accessKeyId: "LTAInobody", accessKeySecret: "x" });
    expect((await rejection(unknown.receiveMessage(QUEUE, 1))).name).toBe(
      "MNSInvalidAccessKeyIdError",
    );
  });

  it("answers 404 MessageNotExist when the queue stays empty for the whole wait", async () => {
    const q = freshQueue("empty");
    const started = Date.now();
    const err = await rejection(mnsClient(sim).receiveMessage(q, 1));
    expect(err.name).toBe("MNSMessageNotExistError");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("returns a long poll as soon as a message arrives", async () => {
    const q = freshQueue("longpoll");
    const started = Date.now();
    const poll = mnsClient(sim).batchReceiveMessage(q, 16, 20);
    setTimeout(() => sim.control.enqueue(q, "wake up"), 150);
    const got = await poll;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(got.body.map((m) => m.MessageBody)).toEqual(["wake up"]);
  });

  it("redelivers an unacknowledged message after the visibility timeout with DequeueCount 2 and refuses the old handle", async () => {
    const client = mnsClient(sim);
    const q = "visibility";
    expect((await client.createQueue(q, { VisibilityTimeout: 1 })).code).toBe(201);
    await client.sendMessage(q, { MessageBody: "again" });
    const first = await client.receiveMessage(q, 1);
    await expect(client.receiveMessage(q)).rejects.toMatchObject({
      name: "MNSMessageNotExistError",
    });

    const second = await client.receiveMessage(q, 3); // long poll wakes when it reappears
    expect(second.body.MessageId).toBe(first.body.MessageId);
    expect(second.body.DequeueCount).toBe("2");
    expect(second.body.FirstDequeueTime).toBe(first.body.FirstDequeueTime);
    expect(second.body.ReceiptHandle).not.toBe(first.body.ReceiptHandle);
    expect((await rejection(client.deleteMessage(q, first.body.ReceiptHandle))).name).toBe(
      "MNSMessageNotExistError",
    );
    expect((await client.deleteMessage(q, second.body.ReceiptHandle)).code).toBe(204);
    expect(sim.control.counters().mns.redeliveries).toBeGreaterThanOrEqual(1);
  });

  it("makes an unacknowledged message visible again when the simulated clock passes its timeout", async () => {
    const client = mnsClient(sim);
    const q = freshQueue("clock");
    sim.control.enqueue(q, "later");
    const first = await client.receiveMessage(q, 1);
    const waiting = client.receiveMessage(q, 10);
    setTimeout(() => sim.control.advanceClock(31_000), 100);
    const again = await waiting;
    expect(again.body.MessageId).toBe(first.body.MessageId);
    expect(again.body.DequeueCount).toBe("2");
  });

  it("batch-receives up to numOfMessages and batch-deletes, listing stale handles in a 404 Errors body", async () => {
    const client = mnsClient(sim);
    const q = freshQueue("batch");
    const bodies = Array.from({ length: 20 }, (_, i) => ({ MessageBody: `m${i}` }));
    await expect(client.batchSendMessage(q, bodies)).rejects.toMatchObject({
      name: "MNSInvalidArgumentError",
    });
    const sent = await client.batchSendMessage(q, bodies.slice(0, 16));
    expect(sent.code).toBe(201);
    expect(sent.body).toHaveLength(16);
    await client.batchSendMessage(q, bodies.slice(16));

    const got = await client.batchReceiveMessage(q, 16, 1);
    expect(got.body).toHaveLength(16);
    const rest = await client.batchReceiveMessage(q, 16, 1);
    expect(rest.body).toHaveLength(4);

    const handles = got.body.map((m) => m.ReceiptHandle);
    expect((await client.batchDeleteMessage(q, handles)).code).toBe(204);
    const partial = await client.batchDeleteMessage(q, [rest.body[0]!.ReceiptHandle, handles[0]!]);
    expect(partial.code).toBe(404);
    expect(partial.body).toEqual([
      {
        ErrorCode: "MessageNotExist",
        ErrorMessage: "Message not exist.",
        ReceiptHandle: handles[0],
      },
    ]);
    expect(sim.control.queueStats(q)).toEqual({ active: 0, inactive: 3, delayed: 0 });
  });

  it("changes a message's visibility and hands out a new handle", async () => {
    const client = mnsClient(sim);
    const q = freshQueue("cmv");
    sim.control.enqueue(q, "hold");
    const got = await client.receiveMessage(q, 1);
    const changed = await client.changeMessageVisibility(q, got.body.ReceiptHandle, 60);
    expect(changed.code).toBe(200);
    expect(changed.body.ReceiptHandle).not.toBe(got.body.ReceiptHandle);
    expect(Number(changed.body.NextVisibleTime)).toBeGreaterThan(Date.now() + 50_000);
    await expect(client.deleteMessage(q, got.body.ReceiptHandle)).rejects.toMatchObject({
      name: "MNSMessageNotExistError",
    });
    expect((await client.deleteMessage(q, changed.body.ReceiptHandle)).code).toBe(204);
  });

  it("rejects a body with an unescaped & as MalformedXML, the real service's answer", async () => {
    const err = await rejection(mnsClient(sim).sendMessage(QUEUE, { MessageBody: "x & <y>" }));
    expect(err.name).toBe("MNSMalformedXMLError");
  });

  it("answers QueueNotExist for a queue nobody created", async () => {
    const err = await rejection(mnsClient(sim).receiveMessage("no-such-queue", 1));
    expect(err.name).toBe("MNSQueueNotExistError");
  });

  it("fails the next requests as injected: XML 500, non-XML 502, dropped connection", async () => {
    const client = mnsClient(sim);
    const q = freshQueue("faults");
    sim.control.injectFault("mns", { kind: "error", status: 500, code: "InternalError" });
    expect((await rejection(client.receiveMessage(q, 1))).name).toBe("MNSInternalErrorError");

    sim.control.injectFault("mns", { kind: "garbage", status: 502 });
    const garbage = await client.receiveMessage(q, 1);
    expect(garbage.code).toBe(502);
    expect(garbage.body).toBeUndefined();

    sim.control.injectFault("mns", { kind: "drop" });
    const dropped = await rejection(client.receiveMessage(q, 1));
    expect(dropped.name).not.toMatch(/^MNS/);
    expect(sim.control.counters().mns.faults).toBe(3);
  });
});
