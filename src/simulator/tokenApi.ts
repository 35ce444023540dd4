/**
 * dybaseapi `QueryTokenForMnsQueue` (docs/alibaba.md §2.2): short-lived STS credentials for reading
 * the account's receipt queue of one MessageType. ExpireTime is Beijing `yyyy-MM-dd HH:mm:ss`.
 */
import { KNOWN_MESSAGE_TYPES } from "../domain/schemas.js";
import { formatBeijing } from "./clock.js";
import type { SimCounters } from "./counters.js";
import type { CredentialStore } from "./credentials.js";
import type { FaultBox } from "./faults.js";
import type { MnsService } from "./mns.js";
import { RpcError, applyFault, requireParam, type RpcAction } from "./rpc.js";

export interface TokenSettings {
  /** Lifetime of issued STS credentials (real lifetime is undocumented). */
  lifetimeSeconds: number;
}

export function tokenAction(deps: {
  credentials: CredentialStore;
  counters: SimCounters;
  faults: FaultBox;
  mns: MnsService;
  settings: TokenSettings;
}): RpcAction {
  return {
    version: "2017-05-25",
    target: "token",
    handle({ params }) {
      applyFault(deps.faults, "token", () => deps.counters.tokens.refused++);
      try {
        const messageType = requireParam(params, "MessageType");
        const queueName = params.get("QueueName") || undefined;
        const queueTypes = new Set(
          [...deps.mns.queues.values()].map((q) => q.messageType).filter((t) => t !== undefined),
        );
        if (
          !(KNOWN_MESSAGE_TYPES as readonly string[]).includes(messageType) &&
          !queueTypes.has(messageType)
        ) {
          throw new RpcError(
            400,
            "InvalidMessageType",
            `Specified MessageType ${messageType} is not subscribed.`,
          );
        }
        if (queueName !== undefined) {
          const q = deps.mns.queues.get(queueName);
          if (!q || (q.messageType !== undefined && q.messageType !== messageType)) {
            throw new RpcError(
              400,
              "InvalidQueueName",
              `Specified QueueName ${queueName} does not exist or does not belong to MessageType ${messageType}.`,
            );
          }
        }
        const sts = deps.credentials.issueSts(
          messageType,
          queueName,
          deps.settings.lifetimeSeconds * 1000,
        );
        deps.counters.tokens.issued++;
        return {
          Code: "OK",
          Message: "OK",
          MessageTokenDTO: {
            AccessKeyId: sts.accessKeyId,
            AccessKeySecret: sts.accessKeySecret,
            SecurityToken: sts.securityToken,
            CreateTime: formatBeijing(sts.createdAt),
            ExpireTime: formatBeijing(sts.expiresAt),
          },
        };
      } catch (err) {
        deps.counters.tokens.refused++;
        throw err;
      }
    },
  };
}
