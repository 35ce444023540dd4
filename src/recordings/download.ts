/**
 * One download of a recording into the store, streamed end to end (undici body → byte-rate cap →
 * length check + SHA-256 → store.put), so memory stays bounded whatever the recording's size.
 * The object is committed only when the body ended with exactly Content-Length bytes (and no more
 * than the maximum size); otherwise put() fails and nothing is stored under the key.
 */
import { createHash } from "node:crypto";
import { Transform } from "node:stream";

import { Agent, request } from "undici";

import { HostNotAllowedError, type HostPolicy } from "./hosts.js";
import type { ObjectStore } from "./objectStore.js";
import type { ByteRate } from "./throttle.js";

export class TruncatedError extends Error {
  override name = "TruncatedError";
}
export class TooLargeError extends Error {
  override name = "TooLargeError";
}

export type DownloadResult =
  | { kind: "stored"; sha256: string; bytes: number; contentType: string }
  /** The server answered without the recording (403 of an expired link, 404, 5xx, 3xx ...). */
  | { kind: "status"; status: number };

export interface Downloader {
  download(
    url: string,
    key: string,
    signal: AbortSignal,
    onBytes: (n: number) => void,
  ): Promise<DownloadResult>;
  close(): Promise<void>;
}

export function createDownloader(opts: {
  store: ObjectStore;
  hosts: HostPolicy;
  rate: ByteRate;
  maxBytes: number;
}): Downloader {
  const agent = new Agent({
    connect: { lookup: opts.hosts.lookup, timeout: 10_000 },
    headersTimeout: 30_000,
    // Between two chunks; a slow but moving download is fine.
    bodyTimeout: 60_000,
  });
  return {
    async download(url, key, signal, onBytes) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new HostNotAllowedError("record_file is not a URL");
      }
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
        throw new HostNotAllowedError(`scheme ${parsed.protocol} is not allowed`);
      }
      if (opts.hosts.match(parsed.hostname) === undefined) {
        throw new HostNotAllowedError(`host ${parsed.hostname} is not in VMS_RECORDINGS_HOSTS`);
      }
      const res = await request(parsed, { method: "GET", dispatcher: agent, signal });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        res.body.resume();
        return { kind: "status", status: res.statusCode };
      }
      const lengthHeader = res.headers["content-length"];
      const expected = typeof lengthHeader === "string" ? Number(lengthHeader) : undefined;
      if (expected !== undefined && expected > opts.maxBytes) {
        res.body.destroy();
        throw new TooLargeError(`${expected} bytes is above VMS_RECORDINGS_MAX_BYTES`);
      }
      const typeHeader = res.headers["content-type"];
      const contentType =
        typeof typeHeader === "string" && typeHeader !== ""
          ? typeHeader.split(";")[0]?.trim() || typeHeader
          : contentTypeOf(key);
      const hash = createHash("sha256");
      let bytes = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (bytes > opts.maxBytes || (expected !== undefined && bytes > expected)) {
            done(new TooLargeError(`more than ${expected ?? opts.maxBytes} bytes`));
            return;
          }
          hash.update(chunk);
          onBytes(chunk.length);
          done(null, chunk);
        },
        flush(done) {
          done(
            expected !== undefined && bytes !== expected
              ? new TruncatedError(`got ${bytes} of ${expected} bytes`)
              : null,
          );
        },
      });
      const throttled = opts.rate.stream();
      // Errors of any stage reach `check`, the body store.put reads; put then stores nothing.
      // put() may still be preparing (mkdir, open) when the body fails: keep the error on
      // `check` (put's pipeline sees it as `errored`) instead of an unhandled 'error' event.
      check.on("error", () => {});
      res.body.on("error", (err) => check.destroy(err));
      throttled.on("error", (err) => check.destroy(err));
      res.body.pipe(throttled).pipe(check);
      try {
        await opts.store.put(key, check, contentType);
      } finally {
        res.body.destroy();
      }
      return { kind: "stored", sha256: hash.digest("hex"), bytes, contentType };
    },
    close: () => agent.close(),
  };
}

const TYPES: Record<string, string> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  m4a: "audio/mp4",
  amr: "audio/amr",
};

export function contentTypeOf(key: string): string {
  const ext = /\.([a-z0-9]+)$/.exec(key)?.[1] ?? "";
  return TYPES[ext] ?? "application/octet-stream";
}
