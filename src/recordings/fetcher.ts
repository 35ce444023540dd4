/**
 * The recording fetcher (worker role): downloads every recording not stored yet into the
 * recording store, closest link expiry first. Its outbox is PostgreSQL (src/store/recordings/
 * fetchQueue.ts), so a restart, a crash mid-download or a Redis loss loses nothing: a claimed row
 * whose process died comes due again when its lease lapses, and is downloaded again from scratch.
 *
 * `start()` runs until `stop()`; `drain(filter)` (the `recordings fetch` command) returns once no
 * matching recording is due.
 */
import { createHash } from "node:crypto";

import type pg from "pg";

import type { Config } from "../config/index.js";
import type { Logger } from "../logger.js";
import {
  adoptStoredSiblings,
  claimDue,
  extendLeases,
  releaseClaim,
  skipPending,
  type ClaimFilter,
  type ClaimedRecording,
} from "../store/recordings/fetchQueue.js";
import { markFinal, markRetry, markStored } from "../store/recordings/fetchResult.js";
import { createDownloader, TooLargeError, TruncatedError } from "./download.js";
import { createHostPolicy, HostNotAllowedError } from "./hosts.js";
import type { RecordingMetrics } from "./metrics.js";
import type { ObjectStore } from "./objectStore.js";
import { createByteRate } from "./throttle.js";

export interface FetcherTuning {
  /** Idle poll interval; default 2 s. */
  pollMs?: number;
  /** Claim lease, renewed while a download runs; default 30 s. */
  leaseMs?: number;
  /** First retry delay, doubled per attempt up to an hour; default 30 s. */
  backoffMs?: number;
  /** Attempts before a recording ends `failed`; default 12 (about half a day of backoff). */
  maxAttempts?: number;
}

export interface RecordingFetcher {
  start(): void;
  /** Download matching due recordings until none is left; resolves with how many were handled. */
  drain(filter: ClaimFilter, onDone?: (outcome: Outcome) => void): Promise<number>;
  stop(): Promise<void>;
}

export type Outcome = "stored" | "retry" | "expired" | "failed" | "released";

/** While a backlog is claimed, how often rows of recordings already stored are adopted. */
const ADOPT_EVERY_MS = 15_000;

export function createRecordingFetcher(deps: {
  config: Config;
  pool: pg.Pool;
  store: ObjectStore | undefined;
  metrics: RecordingMetrics;
  logger: Logger;
  tuning?: FetcherTuning;
}): RecordingFetcher {
  const { pool, store, metrics, logger: log } = deps;
  const cfg = deps.config.recordings;
  const pollMs = deps.tuning?.pollMs ?? 2000;
  const leaseMs = deps.tuning?.leaseMs ?? 30_000;
  const backoffMs = deps.tuning?.backoffMs ?? 30_000;
  const maxAttempts = deps.tuning?.maxAttempts ?? 12;
  const downloader = store
    ? createDownloader({
        store,
        hosts: createHostPolicy(cfg.hosts),
        rate: createByteRate(cfg.maxBytesPerSecond),
        maxBytes: cfg.maxBytes,
      })
    : undefined;
  const inflight = new Map<number, { ac: AbortController; done: Promise<void> }>();
  let stopping = false;
  let wake: (() => void) | undefined;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const fail = async (c: ClaimedRecording, reason: string, error: string, retry: boolean) => {
    metrics.failures.inc({ reason });
    if (retry && c.attempts < maxAttempts) {
      const delay =
        Math.min(backoffMs * 2 ** (c.attempts - 1), 3600_000) * (0.8 + Math.random() * 0.4);
      await markRetry(pool, c.id, error, new Date(Date.now() + delay));
      log.warn(
        { id: c.id, callId: c.callId, reason, error, attempt: c.attempts },
        "recording download failed; will retry",
      );
      return "retry" as const;
    }
    const status = reason === "expired" ? "expired" : "failed";
    await markFinal(pool, c.id, status, error);
    log.warn(
      { id: c.id, callId: c.callId, reason, error, attempt: c.attempts },
      `recording ${status}`,
    );
    return status;
  };

  const handle = async (c: ClaimedRecording, ac: AbortController): Promise<Outcome> => {
    const key = storageKeyOf(c);
    try {
      const r = await (downloader as NonNullable<typeof downloader>).download(
        c.recordFile,
        key,
        ac.signal,
        (n) => metrics.bytes.inc(n),
      );
      if (r.kind === "stored") {
        await markStored(pool, c.id, { storageKey: key, ...r });
        metrics.fetched.inc();
        log.info({ id: c.id, callId: c.callId, key, bytes: r.bytes }, "recording stored");
        return "stored";
      }
      const s = r.status;
      if ((s === 403 || s === 404 || s === 410) && Date.now() >= c.linkExpiresAt.getTime()) {
        return await fail(c, "expired", `HTTP ${s} after the link expired`, false);
      }
      const retry = s >= 500 || s === 429 || s === 403 || s === 404 || s === 408;
      return await fail(c, s >= 500 ? "http_5xx" : "http_4xx", `HTTP ${s}`, retry);
    } catch (err) {
      if (stopping && ac.signal.aborted) {
        await releaseClaim(pool, c.id);
        return "released";
      }
      if (err instanceof HostNotAllowedError) {
        return await fail(c, "host_refused", err.message, false);
      }
      if (err instanceof TooLargeError) {
        return await fail(c, "too_large", err.message, false);
      }
      if (err instanceof TruncatedError) {
        return await fail(c, "truncated", err.message, true);
      }
      const code = (err as { code?: unknown }).code;
      const network = typeof code === "string" && /^(UND_ERR|E[A-Z]+)/.test(code);
      if (!network) {
        log.error({ err, id: c.id }, "recording could not be stored");
      }
      return await fail(
        c,
        network ? "network" : "store",
        (err as Error).message.slice(0, 300),
        true,
      );
    }
  };

  const launch = (c: ClaimedRecording, onDone?: (o: Outcome) => void) => {
    const ac = new AbortController();
    const done = handle(c, ac)
      .then((o) => onDone?.(o))
      .catch((err: unknown) => log.error({ err, id: c.id }, "recording fetch bookkeeping failed"))
      .finally(() => {
        inflight.delete(c.id);
        wake?.();
      });
    inflight.set(c.id, { ac, done });
  };

  let lastGauges = 0;
  let lastAdopt = 0;
  const refreshGauges = async () => {
    if (Date.now() - lastGauges < 15_000) {
      return;
    }
    lastGauges = Date.now();
    const { rows } = await pool.query<{ soonest: Date | null; soon: number }>(
      `select min(link_expires_at) as soonest,
              count(*) filter (where link_expires_at < now() + interval '24 hours')::int as soon
         from recordings where fetch_status = 'pending'`,
    );
    const r = rows[0];
    metrics.oldestPendingExpiry.set(
      r?.soonest ? (r.soonest.getTime() - Date.now()) / 1000 : 7 * 86_400,
    );
    metrics.expiringSoon.set(r?.soon ?? 0);
  };

  /** One round: claim as many due recordings as there are free slots; returns how many. */
  const round = async (filter: ClaimFilter, onDone?: (o: Outcome) => void): Promise<number> => {
    await refreshGauges();
    if (!downloader) {
      const n = await skipPending(pool);
      if (n > 0) {
        log.info({ skipped: n }, "recordings skipped: VMS_RECORDINGS_STORE=off");
      }
      return 0;
    }
    const free = cfg.concurrency - inflight.size;
    if (free <= 0) {
      return 0;
    }
    const claimed = await claimDue(pool, free, leaseMs, filter);
    for (const c of claimed) {
      launch(c, onDone);
    }
    // claimDue passes over rows whose recording is stored through another row; this pass makes
    // them stored. It joins the whole table, so it runs once the due rows are claimed (fewer than
    // the free slots: the loop naps next), and during a backlog every ADOPT_EVERY_MS instead of
    // at every claim (one per download ended: ~7 ms each with 12,000 recordings pending).
    if (claimed.length < free || Date.now() - lastAdopt >= ADOPT_EVERY_MS) {
      lastAdopt = Date.now();
      await adoptStoredSiblings(pool);
    }
    return claimed.length;
  };

  let loop: Promise<void> | undefined;
  const renew = setInterval(() => {
    extendLeases(pool, [...inflight.keys()], leaseMs).catch((err: unknown) =>
      log.warn({ err }, "recording leases not renewed"),
    );
  }, leaseMs / 3);
  renew.unref();

  return {
    start() {
      log.info(
        { store: store?.location ?? "off", hosts: cfg.hosts, concurrency: cfg.concurrency },
        store ? `recordings are stored in ${store.location}` : "recording store off",
      );
      loop ??= (async () => {
        while (!stopping) {
          try {
            const n = await round({});
            if (n === 0 || inflight.size >= cfg.concurrency) {
              await nap(pollMs);
            }
          } catch (err) {
            log.warn({ err }, "recording fetcher round failed; retrying");
            await nap(pollMs);
          }
        }
      })();
    },
    async drain(filter, onDone) {
      let handled = 0;
      for (;;) {
        const n = await round(filter, (o) => {
          handled++;
          onDone?.(o);
        });
        if (n === 0 && inflight.size === 0) {
          return handled;
        }
        if (n === 0 || inflight.size >= cfg.concurrency) {
          await nap(pollMs);
        }
      }
    },
    async stop() {
      stopping = true;
      clearInterval(renew);
      wake?.();
      for (const { ac } of inflight.values()) {
        ac.abort();
      }
      await loop;
      await Promise.all([...inflight.values()].map((f) => f.done));
      await downloader?.close();
      store?.close();
    },
  };
}

/**
 * yyyy/mm/dd/<call_id>-<hash>.<ext>: the same for every delivery of a recording (the day is the
 * call's start from the receipt, the hash covers the URL without its signature), so redeliveries
 * and freshly signed URLs land on one object.
 */
export function storageKeyOf(c: { callId: string; recordFile: string; day: Date }): string {
  const path = c.recordFile.split("?")[0] ?? "";
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(path)?.[1]?.toLowerCase() ?? "bin";
  const hash = createHash("sha256").update(path).digest("hex").slice(0, 10);
  const safe = c.callId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
  const d = c.day.toISOString();
  return `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${safe}-${hash}.${ext}`;
}
