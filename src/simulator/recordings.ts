/**
 * OSS as seen by a recording's signed URL: `GET /record/<name>.wav?Expires=…&OSSAccessKeyId=…
 * &Signature=…` answers a real WAV (a tone generated here, the same bytes for the same name and
 * size every time), 403 AccessDenied once Expires (simulated clock) has passed or when the
 * signature is wrong, as OSS does. Faults: a byte rate (slow downloads), the next N answers with
 * a status (500, 503 …), the next N bodies cut after some bytes (a connection lost mid-download).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

import type { SimClock } from "./clock.js";

export const RECORD_PREFIX = "/record/";
const SAMPLE_RATE = 8000;
const HEADER_BYTES = 44;
const BUCKET = "alicom-vms-record";

export interface RecordingFaults {
  /** Serve bodies at most this fast (0: as fast as possible). */
  bytesPerSecond?: number;
  /** The next `count` requests answer `status` (OSS-style XML error). */
  failNext?: { status: number; count: number };
  /** The next `count` bodies are cut (socket destroyed) after `bytes` bytes. */
  cutAfter?: { bytes: number; count: number };
}

export interface RecordingSettings {
  /** PCM bytes of every WAV served (8 kHz, 16-bit mono: 16 000 a second); default 2 s. */
  dataBytes: number;
}

/** The WAV the simulator serves for `name` with `dataBytes` of samples, as a lazy stream. */
export function wavStream(name: string, dataBytes: number): Readable {
  const seed = createHash("sha256").update(name).digest();
  const hz = 300 + (seed.readUInt16BE(0) % 500);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  // One second of tone, repeated: generating 200 MB sample by sample would cost seconds of CPU.
  const second = Buffer.alloc(SAMPLE_RATE * 2);
  for (let i = 0; i < SAMPLE_RATE; i++) {
    second.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE)), i * 2);
  }
  let sent = -HEADER_BYTES;
  return new Readable({
    read() {
      if (sent < 0) {
        sent = 0;
        this.push(header);
        return;
      }
      if (sent >= dataBytes) {
        this.push(null);
        return;
      }
      const offset = sent % second.length;
      const n = Math.min(second.length - offset, dataBytes - sent, 64 * 1024);
      sent += n;
      this.push(second.subarray(offset, offset + n));
    },
  });
}

export class RecordingService {
  private readonly secret = randomBytes(16).toString("hex");
  private baseUrl = "http://alicom-vms-record.oss-cn-hangzhou.aliyuncs.com";
  readonly settings: RecordingSettings = { dataBytes: 2 * SAMPLE_RATE * 2 };
  private faults: RecordingFaults = {};

  constructor(private readonly clock: SimClock) {}

  /** Where the signed URLs point (the simulator's own address once it listens). */
  setBaseUrl(url: string): void {
    this.baseUrl = url;
  }

  /** A signed URL for `name` (e.g. `<call>.wav`) valid until `expiresAtMs` (simulated time). */
  sign(name: string, expiresAtMs: number): string {
    const path = `${RECORD_PREFIX}${encodeURIComponent(name)}`;
    const expires = Math.floor(expiresAtMs / 1000);
    return `${this.baseUrl}${path}?Expires=${expires}&OSSAccessKeyId=LTAIsimulated&Signature=${encodeURIComponent(this.signature(path, expires))}`;
  }

  setFaults(faults: RecordingFaults): void {
    this.faults = { ...faults };
  }

  private signature(path: string, expires: number): string {
    return createHmac("sha1", this.secret)
      .update(`GET\n\n\n${expires}\n/${BUCKET}${path}`)
      .digest("base64");
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    const expires = Number(url.searchParams.get("Expires"));
    const signature = url.searchParams.get("Signature") ?? "";
    if (req.method !== "GET" && req.method !== "HEAD") {
      return this.error(res, 405, "MethodNotAllowed", "The specified method is not allowed.");
    }
    if (!Number.isSafeInteger(expires) || signature !== this.signature(url.pathname, expires)) {
      return this.error(
        res,
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    if (this.clock.now() / 1000 > expires) {
      return this.error(res, 403, "AccessDenied", "Request has expired.");
    }
    const fail = this.faults.failNext;
    if (fail && fail.count > 0) {
      fail.count--;
      return this.error(res, fail.status, "InternalError", "simulated failure");
    }
    const name = decodeURIComponent(url.pathname.slice(RECORD_PREFIX.length));
    const total = HEADER_BYTES + this.settings.dataBytes;
    res.writeHead(200, {
      "content-type": "audio/wav",
      "content-length": total,
      etag: `"${createHash("md5").update(`${name}:${total}`).digest("hex")}"`,
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const cut =
      this.faults.cutAfter && this.faults.cutAfter.count > 0 ? this.faults.cutAfter : undefined;
    if (cut) {
      cut.count--;
    }
    const rate = this.faults.bytesPerSecond ?? 0;
    let sent = 0;
    const started = Date.now();
    for await (const chunk of wavStream(name, this.settings.dataBytes)) {
      let buf = chunk as Buffer;
      if (cut && sent + buf.length > cut.bytes) {
        buf = buf.subarray(0, Math.max(0, cut.bytes - sent));
        res.write(buf);
        // Let the bytes leave before the connection dies, as a real cut mid-transfer would.
        await sleep(50);
        res.destroy();
        return;
      }
      if (res.destroyed) {
        return;
      }
      sent += buf.length;
      if (!res.write(buf)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.on("drain", go);
          res.on("close", go);
        });
      }
      if (rate > 0) {
        const due = started + (sent * 1000) / rate;
        if (due > Date.now()) {
          await sleep(due - Date.now());
        }
      }
    }
    res.end();
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>${randomBytes(12).toString("hex").toUpperCase()}</RequestId>\n  <HostId>${BUCKET}.oss-cn-hangzhou.aliyuncs.com</HostId>\n</Error>\n`;
    res.writeHead(status, {
      "content-type": "application/xml",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  }
}
