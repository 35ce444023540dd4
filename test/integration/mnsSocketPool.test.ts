/**
 * The MNS consumer's clients keep sockets of their own. With one shared pool (httpx's default
 * agent), a POP call (QueryTokenForMnsQueue through @alicloud/openapi-client) leaves its read
 * timer armed on the socket; when it fires during an MNS long poll that reuses the socket, the
 * SDK throws ReadTimeout on a batch the server already handed over, and the batch stays
 * invisible until its visibility timeout (src/sources/mns/mnsClient.ts says why).
 * Reproduced here deterministically: token API and MNS on one host:port, as with the simulator.
 */
import { afterAll, beforeAll, expect, it } from "vitest";

import { createRpcClient } from "../../src/alibaba/openapi.js";
import { mnsClientFactory } from "../../src/sources/mns/mnsClient.js";
import type { Simulator } from "../../src/simulator/index.js";
import { QUEUE, startTestSimulator } from "./simulator/fixture.js";

const RPC_TIMEOUT_MS = 1000;
let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

it("a long poll that outlives a token call's read timer on the same host still gets its batch", async () => {
  const rpc = createRpcClient({ endpoint: sim.url, ...sim.credentials, timeoutMs: RPC_TIMEOUT_MS });
  const token = (await rpc.call("QueryTokenForMnsQueue", "2017-05-25", {
    MessageType: "VoiceReport",
    QueueName: QUEUE,
  })) as {
    MessageTokenDTO: { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string };
  };
  const dto = token.MessageTokenDTO;
  const factory = mnsClientFactory(sim.url, 3);
  try {
    const client = factory.create({
      accessKeyId: dto.AccessKeyId,
      accessKeySecret: dto.AccessKeySecret,
      securityToken: dto.SecurityToken,
      expiresAt: Date.now() + 3600_000,
    });
    // The message arrives while the long poll waits, after the token call's timer has fired.
    const enqueue = setTimeout(
      () =>
        sim.control.enqueueReceipts(
          [{ messageType: "VoiceReport", body: { call_id: "100000000001^100000000001" } }],
          { queueName: QUEUE },
        ),
      RPC_TIMEOUT_MS + 500,
    );
    try {
      const res = await client.batchReceiveMessage(QUEUE, 16, 3);
      expect(res.body).toHaveLength(1);
      expect(res.body[0]?.DequeueCount).toBe("1");
    } finally {
      clearTimeout(enqueue);
    }
    expect(sim.control.counters().mns.messagesReceived).toBe(1);
  } finally {
    factory.close();
  }
});
