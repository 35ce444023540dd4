/**
 * STS credentials for the MNS queues, from dybaseapi QueryTokenForMnsQueue (docs/alibaba.md §2.2).
 * One cached token per message type; refreshed before its ExpireTime (Beijing time) with a
 * safety margin, and at once when MNS says it is invalid or expired. Concurrent callers share
 * one refresh. The secret and token never leave this module except to the MNS client.
 */
import { createRpcClient, type RpcClient } from "../../alibaba/openapi.js";
import { parseBeijingTime } from "../../domain/time.js";
import { UpstreamError } from "../../errors.js";

export interface StsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface TokenProviderOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Refresh this long before expiry; default 2 min, as every official demo does. */
  marginMs?: number;
  now?: () => number;
  onRefresh?: (messageType: string) => void;
}

export interface TokenProvider {
  get(messageType: string, queueName: string): Promise<StsCredentials>;
  /** Forget the cached token (MNS rejected it); the next get() fetches a new one. */
  invalidate(messageType: string, securityToken: string): void;
}

interface TokenResponse {
  MessageTokenDTO?: {
    AccessKeyId?: string;
    AccessKeySecret?: string;
    SecurityToken?: string;
    ExpireTime?: string;
  };
}

export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const rpc: RpcClient = createRpcClient({
    endpoint: options.endpoint,
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
  });
  const now = options.now ?? Date.now;
  const margin = options.marginMs ?? 2 * 60_000;
  const cache = new Map<string, StsCredentials>();
  const pending = new Map<string, Promise<StsCredentials>>();

  async function fetchToken(messageType: string, queueName: string): Promise<StsCredentials> {
    const body = (await rpc.call("QueryTokenForMnsQueue", "2017-05-25", {
      MessageType: messageType,
      QueueName: queueName,
    })) as TokenResponse;
    const dto = body.MessageTokenDTO;
    const expire = dto?.ExpireTime ? parseBeijingTime(dto.ExpireTime) : undefined;
    if (!dto?.AccessKeyId || !dto.AccessKeySecret || !dto.SecurityToken || !expire?.ok) {
      throw new UpstreamError("QueryTokenForMnsQueue answered without a complete MessageTokenDTO");
    }
    const creds = {
      accessKeyId: dto.AccessKeyId,
      accessKeySecret: dto.AccessKeySecret,
      securityToken: dto.SecurityToken,
      expiresAt: expire.value.getTime(),
    };
    cache.set(messageType, creds);
    options.onRefresh?.(messageType);
    return creds;
  }

  /** A short-lived token (tests, or a provider change) still gets refreshed before it ends. */
  function stillFresh(c: StsCredentials, lifetimeHint: number): boolean {
    const effectiveMargin = Math.min(margin, Math.max(lifetimeHint / 4, 1000));
    return c.expiresAt - now() > effectiveMargin;
  }

  const issuedAt = new Map<string, number>();

  return {
    async get(messageType, queueName) {
      const cached = cache.get(messageType);
      if (cached && stillFresh(cached, cached.expiresAt - (issuedAt.get(messageType) ?? 0))) {
        return cached;
      }
      let p = pending.get(messageType);
      if (!p) {
        const started = now();
        p = fetchToken(messageType, queueName)
          .then((c) => {
            issuedAt.set(messageType, started);
            return c;
          })
          .finally(() => pending.delete(messageType));
        pending.set(messageType, p);
      }
      return p;
    },
    invalidate(messageType, securityToken) {
      if (cache.get(messageType)?.securityToken === securityToken) {
        cache.delete(messageType);
      }
    },
  };
}
