/**
 * `@alicloud/mns` clients on a connection pool of their own.
 *
 * Why: the SDK sends through `httpx`, which keeps one keep-alive agent per module and stores each
 * request's read timer on the pooled *socket*; only `httpx.read` clears it. `@alicloud/openapi-client`
 * (our QueryTokenForMnsQueue and QueryCallDetailByCallId calls) uses the same `httpx` agent but
 * reads bodies with tea-util, so its timer stays armed on the socket after the answer. When the
 * socket is reused by an MNS long poll and that stale timer fires, `httpx.read` of the MNS answer
 * fails at once with `ReadTimeout` — after the server has already handed over a batch, which then
 * stays invisible until its visibility timeout (measured: a 15 s drain took 75 s in one run of
 * two). It needs the token API and MNS on one host:port (the simulator; a proxy in front of
 * both), but a pool that only MNS requests use rules it out everywhere.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";

import MNSClient from "@alicloud/mns";

import type { StsCredentials } from "./tokens.js";

export interface MnsClientFactory {
  /** A client for these credentials; all of them share this factory's sockets. */
  create(creds: StsCredentials): MNSClient;
  /** Close the pooled sockets (after the last request). */
  close(): void;
}

export function mnsClientFactory(endpoint: string, waitSeconds: number): MnsClientFactory {
  const accountId = /^https?:\/\/(\d+)\./.exec(endpoint)?.[1] ?? "0";
  const agent = endpoint.startsWith("https:")
    ? new HttpsAgent({ keepAlive: true })
    : new HttpAgent({ keepAlive: true });
  return {
    create(creds) {
      const client = new MNSClient(accountId, {
        accessKeyId: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        securityToken: creds.securityToken,
        endpoint,
        // The SDK's connectTimeout is a socket-idle timer that would race a 30 s long poll
        // (docs/alibaba.md §11.6.4).
        connectTimeout: (waitSeconds + 5) * 1000,
        readTimeout: (waitSeconds + 10) * 1000,
      });
      // Every SDK call goes through request(); its last argument reaches httpx.request, which
      // takes `agent` from it.
      const send = client.request.bind(client);
      client.request = (method, resource, type, body, attentions, opts) =>
        send(method, resource, type, body, attentions, { ...opts, agent });
      return client;
    },
    close: () => agent.destroy(),
  };
}
