/** Configuration of the MNS consumption mode (src/sources/mns/): queues, endpoints, long polls. */
import { z } from "zod";

import type { AlibabaCredentials } from "./connections.js";
import { emptyAsUndefined, endpoint, intInRange, splitList, type Parsed } from "./parse.js";

export interface MnsQueueConfig {
  messageType: string;
  queueName: string;
}

const mnsQueues = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((s, ctx): MnsQueueConfig[] => {
      if (s === undefined) {
        return [];
      }
      const out: MnsQueueConfig[] = [];
      for (const part of splitList(s)) {
        const m = /^([A-Za-z][A-Za-z0-9]*):([A-Za-z0-9-]{1,256})$/.exec(part);
        if (!m) {
          ctx.addIssue({
            code: "custom",
            message: `must be a comma list of MessageType:QueueName (e.g. VoiceReport:Alicom-Queue-1234567890123456-VoiceReport), got "${part}"`,
          });
          return z.NEVER;
        }
        out.push({ messageType: m[1] as string, queueName: m[2] as string });
      }
      return out;
    }),
);

export const mnsEnv = {
  VMS_MNS_QUEUES: mnsQueues,
  VMS_MNS_ENDPOINT: endpoint("https://1943695596114318.mns.cn-hangzhou.aliyuncs.com"),
  VMS_MNS_WAIT_SECONDS: intInRange(1, 30, 30),
  VMS_MNS_CONCURRENCY: intInRange(1, 64, 2),
  VMS_TOKEN_ENDPOINT: endpoint("https://dybaseapi.aliyuncs.com"),
};

export interface MnsConfig {
  queues: MnsQueueConfig[];
  endpoint: string;
  waitSeconds: number;
  /** Long-poll loops per queue. */
  concurrency: number;
  tokenEndpoint: string;
}

export function mnsConfig(
  e: Parsed<typeof mnsEnv>,
  credentials: AlibabaCredentials | undefined,
  problems: string[],
): MnsConfig {
  if (e.VMS_MNS_QUEUES.length > 0 && credentials === undefined) {
    problems.push(
      "  VMS_MNS_QUEUES: MNS consumption needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    );
  }
  return {
    queues: e.VMS_MNS_QUEUES,
    endpoint: e.VMS_MNS_ENDPOINT,
    waitSeconds: e.VMS_MNS_WAIT_SECONDS,
    concurrency: e.VMS_MNS_CONCURRENCY,
    tokenEndpoint: e.VMS_TOKEN_ENDPOINT,
  };
}
