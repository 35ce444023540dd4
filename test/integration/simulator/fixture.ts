/** Shared set-up for the simulator tests: a simulator on 127.0.0.1 and real SDK clients. */
import MNS from "@alicloud/mns";

import { createRpcClient, type RpcClient } from "../../../src/alibaba/openapi.js";
import {
  startSimulator,
  type AccountCredentials,
  type Simulator,
  type SimulatorOptions,
} from "../../../src/simulator/index.js";

export const QUEUE = "Alicom-Queue-1234567890123456-VoiceReport";
export const CALL_QUEUE = "Alicom-Queue-1234567890123456-VoiceCallReport";

export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({
    queues: [
      { messageType: "VoiceReport", queueName: QUEUE },
      { messageType: "VoiceCallReport", queueName: CALL_QUEUE },
    ],
    ...options,
  });
}

export interface StsTriple {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** The real @alicloud/mns client, configured as the daemon must (no trailing slash, 35 s). */
export function mnsClient(
  sim: Simulator,
  creds: StsTriple | AccountCredentials = sim.credentials,
): MNS {
  return new MNS("1943695596114318", {
    ...creds,
    endpoint: sim.url,
    connectTimeout: 35_000,
    readTimeout: 40_000,
  });
}

export function rpcClient(sim: Simulator, secret = sim.credentials.accessKeySecret): RpcClient {
  return createRpcClient({
    endpoint: sim.url,
    accessKeyId: sim.credentials.accessKeyId,
    accessKeySecret: secret,
    timeoutMs: 5_000,
  });
}

/** What a rejected promise was rejected with. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error("expected the promise to reject");
}
