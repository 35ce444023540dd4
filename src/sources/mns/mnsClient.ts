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
import { Agent as HttpAgent, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createRequire } from "node:module";

import MNSClient from "@alicloud/mns";

import { parseReceivedMessages } from "./receivedXml.js";
import type { StsCredentials } from "./tokens.js";

/**
 * The SDK's own transport and XML helpers (its dependencies, resolved from its folder so they
 * are the very modules it uses): a receive is sent and read exactly as the SDK does it, only its
 * answer is read by receivedXml.ts first.
 */
const sdkRequire = createRequire(createRequire(import.meta.url).resolve("@alicloud/mns"));
const httpx = sdkRequire("httpx") as {
  request(url: string, opts: Record<string, unknown>): Promise<IncomingMessage>;
  read(response: IncomingMessage, encoding: "utf8"): Promise<string>;
};
const sdkXml = sdkRequire("./lib/helper.js") as {
  parseXML(xml: string): Promise<Record<string, Record<string, unknown> | undefined>>;
  extract(value: unknown): unknown;
};

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
      // takes `agent` from it. Receives (GET of "Messages") go through receive() below.
      const send = client.request.bind(client);
      client.request = (method, resource, type, body, attentions, opts) =>
        method === "GET" && type === "Messages"
          ? receive(client, resource, { ...opts, agent })
          : send(method, resource, type, body, attentions, { ...opts, agent });
      return client;
    },
    close: () => agent.destroy(),
  };
}

/**
 * The SDK's request() for a GET of "Messages" (batchReceiveMessage, batchPeekMessage), step for
 * step — signed headers, httpx.request with its timeouts, httpx.read — except that the answer
 * is read by parseReceivedMessages, with the SDK's xml2js reading (and its thrown `MNS<Code>
 * Error`) for any body that reader leaves. Its STS refresh is not repeated: it only runs with a
 * refreshSTSToken callback, which these clients never get (tokens.ts refreshes).
 */
async function receive(
  client: MNSClient,
  resource: string,
  opts: Record<string, unknown>,
): Promise<MNSClient.Response<unknown>> {
  const url = `${client.endpoint}${resource}`;
  const headers = client.buildHeaders("GET", "", resource, opts.headers);
  const response = await httpx.request(url, {
    ...opts,
    method: "GET",
    headers,
    data: "",
    readTimeout: opts.readTimeout || client.readTimeout,
    connectTimeout: opts.connectTimeout || client.connectTimeout,
  });
  const code = response.statusCode ?? 0;
  const contentType = response.headers["content-type"] ?? "";
  const text = await httpx.read(response, "utf8");
  if (!text || !(contentType.startsWith("text/xml") || contentType.startsWith("application/xml"))) {
    return { code, headers: {}, body: undefined };
  }
  const messages = parseReceivedMessages(text);
  if (messages !== undefined) {
    return { code, headers: {}, body: { Message: messages } };
  }
  const parsed = await sdkXml.parseXML(text);
  const error = parsed.Error;
  if (error) {
    const field = (name: string) => sdkXml.extract(error[name]) as string;
    const err = new Error(
      `GET ${url} failed with ${code}. ` +
        `requestid: ${field("RequestId")}, hostid: ${field("HostId")}, message: ${field("Message")}`,
    );
    err.name = `MNS${field("Code")}${err.name}`;
    throw err;
  }
  const body: Record<string, unknown> = {};
  // `?? {}`: a document that is neither <Messages> nor <Error> gives a body without messages, which
  // the consumer backs off from as an unexpected answer (the SDK threw a TypeError).
  for (const [key, value] of Object.entries(parsed.Messages ?? {})) {
    if (key !== "$") {
      body[key] = sdkXml.extract(value);
    }
  }
  return { code, headers: {}, body };
}
