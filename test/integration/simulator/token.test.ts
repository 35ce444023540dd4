/**
 * QueryTokenForMnsQueue through the real @alicloud/openapi-client, and the STS credentials it
 * hands out used by the real @alicloud/mns client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { AlibabaApiError } from "../../../src/alibaba/openapi.js";
import { parseBeijing, type Simulator } from "../../../src/simulator/index.js";
import {
  CALL_QUEUE,
  QUEUE,
  mnsClient,
  rejection,
  rpcClient,
  startTestSimulator,
} from "./fixture.js";

interface TokenResponse {
  Code: string;
  RequestId: string;
  MessageTokenDTO: {
    AccessKeyId: string;
    AccessKeySecret: string;
    SecurityToken: string;
    CreateTime: string;
    ExpireTime: string;
  };
}

let sim: Simulator;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

async function queryToken(query: Record<string, string>): Promise<TokenResponse> {
  return (await rpcClient(sim).call("QueryTokenForMnsQueue", "2017-05-25", query)) as TokenResponse;
}

function stsClient(t: TokenResponse, withToken = true) {
  const dto = t.MessageTokenDTO;
  return mnsClient(sim, {
    accessKeyId: dto.AccessKeyId,
    accessKeySecret: dto.AccessKeySecret,
    ...(withToken ? { securityToken: dto.SecurityToken } : {}),
  });
}

describe("QueryTokenForMnsQueue and STS credentials", () => {
  it("issues STS credentials that @alicloud/mns uses against the custom endpoint", async () => {
    sim.control.setTokenLifetime(900);
    const token = await queryToken({ MessageType: "VoiceReport", QueueName: QUEUE });
    expect(token.Code).toBe("OK");
    const dto = token.MessageTokenDTO;
    expect(dto.AccessKeyId).toMatch(/^STS\./);
    expect(dto.ExpireTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(parseBeijing(dto.ExpireTime)! - parseBeijing(dto.CreateTime)!).toBe(900_000);
    // Beijing time: the ExpireTime is ~15 min after now, read as UTC+8.
    expect(Math.abs(parseBeijing(dto.ExpireTime)! - (Date.now() + 900_000))).toBeLessThan(5_000);

    sim.control.enqueue(QUEUE, "for the STS reader");
    const client = stsClient(token);
    const got = await client.receiveMessage(QUEUE, 1);
    expect(got.body.MessageBody).toBe("for the STS reader");
    expect((await client.deleteMessage(QUEUE, got.body.ReceiptHandle)).code).toBe(204);
    expect(sim.control.counters().tokens.issued).toBeGreaterThanOrEqual(1);
  });

  it("refuses STS credentials once they have expired with SecurityTokenExpired", async () => {
    sim.control.setTokenLifetime(60);
    const client = stsClient(await queryToken({ MessageType: "VoiceReport" }));
    await expect(client.receiveMessage(QUEUE)).rejects.toMatchObject({
      name: "MNSMessageNotExistError",
    });
    sim.control.advanceClock(61_000);
    const err = await rejection(client.receiveMessage(QUEUE));
    expect(err.name).toBe("MNSSecurityTokenExpiredError");
  });

  it("refuses an STS AccessKey sent without its security-token header", async () => {
    const client = stsClient(await queryToken({ MessageType: "VoiceReport" }), false);
    expect((await rejection(client.receiveMessage(QUEUE))).name).toBe(
      "MNSInvalidSecurityTokenError",
    );
  });

  it("limits STS credentials to the queue of their message type", async () => {
    const client = stsClient(await queryToken({ MessageType: "VoiceReport" }));
    expect((await rejection(client.receiveMessage(CALL_QUEUE))).name).toBe("MNSAccessDeniedError");
  });

  it("refuses an unknown MessageType and a QueueName of another type as non-retryable errors", async () => {
    const unknown = await rejection(queryToken({ MessageType: "SmsReport" }));
    expect(unknown).toBeInstanceOf(AlibabaApiError);
    expect(unknown).toMatchObject({
      code: "InvalidMessageType",
      retryable: false,
      statusCode: 400,
    });

    const mismatch = await rejection(
      queryToken({ MessageType: "VoiceReport", QueueName: CALL_QUEUE }),
    );
    expect(mismatch).toMatchObject({ code: "InvalidQueueName", retryable: false });

    const missing = await rejection(queryToken({}));
    expect(missing).toMatchObject({ code: "MissingMessageType" });
  });

  it("refuses RPC calls with a wrong secret or an unknown key, never echoing the secret", async () => {
    const wrong = await rejection(
      rpcClient(sim, "wrong-secret-value").call("QueryTokenForMnsQueue", "2017-05-25", {
        MessageType: "VoiceReport",
      }),
    );
    expect(wrong).toBeInstanceOf(AlibabaApiError);
    expect(wrong).toMatchObject({ code: "SignatureDoesNotMatch", retryable: false });
    expect(wrong.message).not.toContain("wrong-secret-value");
    expect(JSON.stringify(wrong)).not.toContain("wrong-secret-value");

    const { createRpcClient } = await import("../../../src/alibaba/openapi.js");
    const stranger = createRpcClient({
      endpoint: sim.url,
      accessKeyId: "LTAIstranger",
      accessKeySecret: "s",
    });
    const err = await rejection(
      stranger.call("QueryTokenForMnsQueue", "2017-05-25", { MessageType: "VoiceReport" }),
    );
    expect(err).toMatchObject({
      code: "InvalidAccessKeyId.NotFound",
      statusCode: 404,
      retryable: false,
    });
  });
});
