/**
 * The MNS consumption mode: one long-poll loop per queue (× concurrency), in pg-boss's worker
 * shape — receive, handle, catch → log + back off — where no error ever ends the loop.
 *
 * A batch of up to 16 messages is decoded (Base64 JSON), made durable through the same intake
 * as HTTP pushes, and only then deleted. A message that can never be decoded is quarantined in
 * rejected_receipts and then deleted (retrying it cannot succeed). If intake fails (PostgreSQL or
 * Redis down), nothing is deleted: the messages reappear after their visibility timeout.
 */
import type MNSClient from "@alicloud/mns";
import { ExponentialBackoff, type IBackoff } from "cockatiel";

import { sleep } from "../../infra/sleep.js";
import type { MnsQueueConfig } from "../../config/index.js";
import { decodeMnsBody } from "../../domain/envelope.js";
import type { Logger } from "../../logger.js";
import type { Metrics } from "../../ops/metrics.js";
import type { Intake, IntakeItem } from "../../pipeline/intake.js";
import type { RejectedRow } from "../../store/rejectedReceipts/insert.js";
import { mnsClientFactory } from "./mnsClient.js";
import { classifyMnsError, configHint, mnsErrorCode } from "./mnsErrors.js";
import type { StsCredentials, TokenProvider } from "./tokens.js";

export interface MnsConsumerOptions {
  endpoint: string;
  queues: readonly MnsQueueConfig[];
  waitSeconds: number;
  /** Pollers per queue. */
  concurrency: number;
  tokens: TokenProvider;
  intake: Intake;
  metrics: Metrics;
  logger: Logger;
  /** Wait after a configuration error (wrong queue, no permission); default 60 s. */
  configRetryMs?: number;
}

const BATCH = 16;

export function createMnsConsumer(options: MnsConsumerOptions) {
  const { intake, metrics, tokens } = options;
  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  const factory = mnsClientFactory(options.endpoint, options.waitSeconds);
  const clients = new Map<string, MNSClient>();
  const stopped = new Promise<undefined>((resolve) =>
    abort.signal.addEventListener("abort", () => resolve(undefined), { once: true }),
  );

  function clientFor(creds: StsCredentials): MNSClient {
    let c = clients.get(creds.securityToken);
    if (!c) {
      clients.clear(); // the old token's client is no longer useful
      c = factory.create(creds);
      clients.set(creds.securityToken, c);
    }
    return c;
  }

  async function handleBatch(
    queue: MnsQueueConfig,
    client: MNSClient,
    messages: MNSClient.ReceivedMessage[],
    log: Logger,
  ): Promise<{ deleting: Promise<void> }> {
    const items: IntakeItem[] = [];
    const poison: RejectedRow[] = [];
    let redelivered = 0;
    for (const m of messages) {
      if (Number(m.DequeueCount) > 1) {
        redelivered++;
      }
      const decoded = decodeMnsBody(m.MessageBody);
      if (decoded.kind === "invalid") {
        poison.push({
          source: "mns",
          messageType: queue.messageType,
          raw: m.MessageBody,
          reason: `MNS message ${m.MessageId}: ${decoded.reason}`,
          location: queue.queueName,
        });
        continue;
      }
      for (const raw of decoded.items) {
        items.push({ raw, location: `${queue.queueName}#${m.MessageId}` });
      }
    }
    metrics.mnsMessages.inc({ queue: queue.queueName }, messages.length);
    metrics.mnsRedeliveries.inc({ queue: queue.queueName }, redelivered);

    // Durable first (throws → nothing is deleted, the messages come back later).
    if (poison.length > 0) {
      await intake.reject(poison);
    }
    const result = await intake.accept({ source: "mns", messageType: queue.messageType, items });

    log.info(
      {
        messages: messages.length,
        accepted: result.accepted,
        duplicates: result.duplicates,
        rejected: result.rejected + poison.length,
        redelivered,
      },
      "mns batch stored; deleting",
    );
    // The receipts are durable: delete in the background so the next long poll overlaps with
    // this round trip (one delete in flight per poller, awaited before the next one and on stop).
    const handles = messages.map((m) => m.ReceiptHandle);
    // Wrapped: an async function would otherwise wait for the returned promise.
    return { deleting: deleteHandles(queue, client, handles, log) };
  }

  async function deleteHandles(
    queue: MnsQueueConfig,
    client: MNSClient,
    handles: string[],
    log: Logger,
  ): Promise<void> {
    try {
      const res = await client.batchDeleteMessage(queue.queueName, handles);
      const failed = Array.isArray(res.body)
        ? res.body.length
        : res.code === 204
          ? 0
          : handles.length;
      metrics.mnsDeletes.inc({ queue: queue.queueName, outcome: "ok" }, handles.length - failed);
      if (failed > 0) {
        metrics.mnsDeletes.inc({ queue: queue.queueName, outcome: "failed" }, failed);
        log.warn(
          { failed, code: res.code },
          "some deletes failed; those messages will be redelivered and collapse as duplicates",
        );
      }
    } catch (err) {
      // Harmless: the redelivery is a duplicate and collapses on its dedup key.
      metrics.mnsDeletes.inc({ queue: queue.queueName, outcome: "failed" }, handles.length);
      log.warn(
        { code: mnsErrorCode(err), messages: handles.length },
        "batch delete failed; messages will be redelivered",
      );
    }
  }

  async function pollLoop(queue: MnsQueueConfig, poller: number): Promise<void> {
    const log = options.logger.child({ queue: queue.queueName, poller });
    const backoffFactory = new ExponentialBackoff({ initialDelay: 200, maxDelay: 30_000 });
    let backoff: IBackoff<unknown> | undefined;
    const pause = async (why: string, code: string, err?: unknown) => {
      backoff = backoff ? backoff.next(undefined) : backoffFactory.next();
      log.warn({ code, retryInMs: Math.round(backoff.duration), err }, why);
      await sleep(backoff.duration, abort.signal);
    };
    /** A failure of ours (token API, storage) rather than MNS's: counted under `code`, then paused. */
    const countAndPause = async (code: string, why: string, err: unknown) => {
      metrics.mnsErrors.inc({ queue: queue.queueName, code });
      await pause(why, code, err);
    };

    type Received =
      | { ok: true; res: MNSClient.Response<MNSClient.ReceivedMessage[]> }
      | { ok: false; err: unknown };
    const receive = (client: MNSClient): Promise<Received> => {
      metrics.mnsPolls.inc({ queue: queue.queueName });
      return client.batchReceiveMessage(queue.queueName, BATCH, options.waitSeconds).then(
        (res) => ({ ok: true, res }),
        (err: unknown) => ({ ok: false, err }),
      );
    };
    // The next long poll, sent while the previous batch is being stored: each poller keeps one
    // receive in flight instead of idling through its intake round trips.
    let prefetched:
      { received: Promise<Received>; creds: StsCredentials; client: MNSClient } | undefined;

    let inFlightDelete: Promise<void> = Promise.resolve();
    while (!abort.signal.aborted) {
      let creds: StsCredentials;
      let client: MNSClient;
      let receiving: Promise<Received>;
      if (prefetched) {
        ({ creds, client, received: receiving } = prefetched);
        prefetched = undefined;
      } else {
        try {
          creds = await tokens.get(queue.messageType, queue.queueName);
        } catch (err) {
          await countAndPause(
            "TokenApi",
            "could not get an STS token from QueryTokenForMnsQueue; retrying",
            err,
          );
          continue;
        }
        client = clientFor(creds);
        receiving = receive(client);
      }
      // Race the long poll against stop(): the SDK cannot be aborted, and an abandoned
      // receive only delays its messages until their visibility timeout.
      const received = await Promise.race([receiving, stopped]);
      if (received === undefined) {
        break;
      }
      if (!received.ok) {
        const failure = classifyMnsError(received.err);
        if (failure.kind === "empty") {
          metrics.mnsEmptyPolls.inc({ queue: queue.queueName });
          backoff = undefined;
          continue;
        }
        metrics.mnsErrors.inc({ queue: queue.queueName, code: failure.code });
        if (failure.kind === "token") {
          tokens.invalidate(queue.messageType, creds.securityToken);
          log.info({ code: failure.code }, "MNS rejected the STS token; fetching a new one");
          await pause("token rejected", failure.code);
          continue;
        }
        if (failure.kind === "config") {
          log.error(
            { code: failure.code, hint: configHint(failure.code) },
            "MNS refused this queue; retrying slowly",
          );
          await sleep(options.configRetryMs ?? 60_000, abort.signal);
          continue;
        }
        await pause("MNS receive failed; backing off", failure.code);
        continue;
      }
      if (received.res.code !== 200 || !Array.isArray(received.res.body)) {
        metrics.mnsErrors.inc({ queue: queue.queueName, code: `HTTP${received.res.code}` });
        await pause("MNS answered an unexpected status", `HTTP ${received.res.code}`);
        continue;
      }
      const messages = received.res.body;
      if (!abort.signal.aborted) {
        prefetched = { received: receive(client), creds, client };
      }

      try {
        const { deleting } = await handleBatch(queue, client, messages, log);
        await inFlightDelete;
        inFlightDelete = deleting;
        backoff = undefined;
      } catch (err) {
        await countAndPause(
          "Storage",
          "could not store the batch; it stays in MNS and will be redelivered",
          err,
        );
      }
    }
    // The last stored batch's delete: stop() closes the sockets next, which would cut it off
    // and bring those messages back as duplicates after a clean stop.
    await inFlightDelete;
  }

  return {
    start() {
      for (const queue of options.queues) {
        for (let i = 0; i < options.concurrency; i++) {
          loops.push(pollLoop(queue, i));
        }
      }
    },
    /** Stop polling; batches already received are finished (stored and deleted) first. */
    async stop() {
      abort.abort();
      await Promise.all(loops);
      factory.close();
    },
  };
}
