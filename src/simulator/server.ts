/**
 * `startSimulator`: the simulated Alibaba Cloud account on one HTTP port — MNS queues,
 * QueryTokenForMnsQueue, QueryCallDetailByCallId, and the control API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { Logger } from "../logger.js";
import { CallStore, callDetailAction, type DetailSettings } from "./callDetailApi.js";
import { createCallGenerator } from "./calls.js";
import { SimClock } from "./clock.js";
import { createControl, type SimulatorControl } from "./control.js";
import { CONTROL_PREFIX, handleControl } from "./controlHttp.js";
import { createCounters } from "./counters.js";
import { CredentialStore, type AccountCredentials } from "./credentials.js";
import { FaultBox } from "./faults.js";
import { BodyTooLargeError, readBody, sendJson } from "./http.js";
import { generateAccountCredentials } from "./ids.js";
import { MnsService } from "./mns.js";
import { RECORD_PREFIX, RecordingService } from "./recordings.js";
import { createPushClient, type PushClient } from "./pushClient.js";
import { RpcService, isRpcRequest, type RpcAction } from "./rpc.js";
import { tokenAction, type TokenSettings } from "./tokenApi.js";

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Account AccessKey pair the simulator accepts; generated when absent. */
  credentials?: AccountCredentials;
  /** Queues to create at start, each tied to the receipt type delivered to it. */
  queues?: ReadonlyArray<{ messageType: string; queueName: string }>;
  /** Lifetime of STS credentials from QueryTokenForMnsQueue; default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** Detail lag after a call ends; default 60 s (docs say 3–5 min; the daemon waits 180 s). */
  detailLagMs?: number;
  /** QueryCallDetailByCallId limit per sliding second; default 100 (the account limit). */
  detailQps?: number;
  /** Seed of the call generator behind `control.generateCalls`; default 1. */
  seed?: number;
  /** Serve the control API under /__control/ as well; default true. */
  httpControl?: boolean;
  logger?: Logger;
}

export interface Simulator {
  /** `http://127.0.0.1:<port>`: the MNS, token and call-detail endpoint (no trailing slash). */
  url: string;
  port: number;
  credentials: AccountCredentials;
  control: SimulatorControl;
  clock: SimClock;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const logger = options.logger;
  const clock = new SimClock();
  const counters = createCounters();
  const faults = new FaultBox();
  const account = options.credentials ?? generateAccountCredentials();
  const credentials = new CredentialStore(account, clock);
  const mns = new MnsService(clock, credentials, counters, faults, logger);
  const calls = new CallStore();
  const recordings = new RecordingService(clock);
  const detail: DetailSettings = {
    lagMs: options.detailLagMs ?? 60_000,
    qps: options.detailQps ?? 100,
    withoutDetail: new Set(),
  };
  const token: TokenSettings = { lifetimeSeconds: options.tokenLifetimeSeconds ?? 3600 };
  const actions = new Map<string, RpcAction>([
    ["QueryTokenForMnsQueue", tokenAction({ credentials, counters, faults, mns, settings: token })],
    [
      "QueryCallDetailByCallId",
      callDetailAction({ calls, clock, counters, faults, settings: detail }),
    ],
  ]);
  const rpc = new RpcService(actions, credentials, counters, faults, logger);
  const generator = createCallGenerator({ seed: options.seed ?? 1 });
  const control = createControl({
    mns,
    calls,
    generator,
    clock,
    counters,
    faults,
    detail,
    token,
    recordings,
  });
  for (const q of options.queues ?? []) {
    control.createQueue(q.queueName, { messageType: q.messageType });
  }
  const unsubscribe = clock.onAdvance(() => mns.notifyAll());
  const pushClients = new Map<string, PushClient>();
  const pushClientFor = (url: string): PushClient => {
    let client = pushClients.get(url);
    if (!client) {
      client = createPushClient({ url });
      pushClients.set(url, client);
    }
    return client;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendJson(res, 413, { Code: "RequestEntityTooLarge", Message: err.message });
        return;
      }
      throw err;
    }
    const path = req.url ?? "/";
    if (options.httpControl !== false && path.startsWith(CONTROL_PREFIX)) {
      await handleControl(control, pushClientFor, req, res, body);
    } else if (path.startsWith(RECORD_PREFIX)) {
      await recordings.handle(req, res);
    } else if (isRpcRequest(req)) {
      await rpc.handle(req, res, body);
    } else {
      await mns.handle(req, res, body);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger?.error({ err, method: req.method }, "simulator: request failed");
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { Code: "InternalError", Message: "simulator error" });
      } else {
        res.destroy();
      }
    });
  });
  // SDK clients keep sockets alive without an idle limit; a long server-side keep-alive makes the
  // race "client reuses a socket the server is closing" (ECONNRESET) rare. close() ends them all.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // Recording URLs of generated calls point here, so downloads reach the simulated OSS.
  recordings.setBaseUrl(`http://127.0.0.1:${port}`);
  logger?.info({ port }, "simulator: listening");

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    credentials: account,
    control,
    clock,
    close: () => {
      closed ??= (async () => {
        unsubscribe();
        mns.close();
        await Promise.all([...pushClients.values()].map((c) => c.close()));
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await done;
      })();
      return closed;
    },
  };
}
