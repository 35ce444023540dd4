/**
 * How a daemon is pointed at a simulator: the queue of each receipt type, and the environment
 * variables (credentials, queues, endpoints) that make `run` talk to it. Shared by `demo`,
 * `simulate` and the tests so there is one definition of the simulated account's layout.
 */
import { KNOWN_MESSAGE_TYPES } from "../domain/schemas.js";
import type { AccountCredentials } from "./credentials.js";

/** The digits of simulated queue names stand for an account UID. */
export const DEFAULT_SIMULATED_UID = "1234567890123456";

export const SIMULATED_QUEUES: ReadonlyArray<{ messageType: string; queueName: string }> =
  KNOWN_MESSAGE_TYPES.map((messageType) => ({
    messageType,
    queueName: `Alicom-Queue-${DEFAULT_SIMULATED_UID}-${messageType}`,
  }));

/** `VMS_MNS_QUEUES` for a list of queues. */
export function mnsQueuesVariable(
  queues: ReadonlyArray<{ messageType: string; queueName: string }> = SIMULATED_QUEUES,
): string {
  return queues.map((q) => `${q.messageType}:${q.queueName}`).join(",");
}

/** The daemon environment for a simulator at `url` with these credentials and queues. */
export function daemonEnvFor(
  sim: { url: string; credentials: AccountCredentials },
  queues: ReadonlyArray<{ messageType: string; queueName: string }> = SIMULATED_QUEUES,
): Record<string, string> {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_MNS_QUEUES: mnsQueuesVariable(queues),
    VMS_MNS_ENDPOINT: sim.url,
    VMS_TOKEN_ENDPOINT: sim.url,
    VMS_API_ENDPOINT: sim.url,
  };
}
