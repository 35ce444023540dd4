/**
 * Reading hostile archives in bounded time and memory: gzip decompression with a size and ratio
 * cap (a bomb ends as one rejected row, not minutes of CPU), and an NDJSON line splitter that is
 * linear in the input and decodes each line as strict UTF-8 on its own.
 *
 * The splitter is hand-written because split2 (and readline) re-scan the text they hold for
 * every chunk: a line with no newline costs O(n²) (a 64 MiB line of zeros took minutes), and
 * they decode as lossy UTF-8 (bad bytes silently become U+FFFD). Here each chunk is searched
 * once with Buffer#indexOf and a line's bytes are only joined once it is complete.
 */
import { Transform, type TransformCallback } from "node:stream";

/** Decompressed bytes per file, at most (a year of one account's receipts is far below it). */
export const MAX_DECOMPRESSED_BYTES = 4 * 1024 ** 3;
/** Decompressed ÷ compressed bytes, at most, once past MIN_BYTES_FOR_RATIO. JSON receipts: ≈ 10–30. */
export const MAX_COMPRESSION_RATIO = 200;
const MIN_BYTES_FOR_RATIO = 1024 * 1024;

export class DecompressionBombError extends Error {}

/**
 * A pass-through placed after gunzip that errors (and so ends the file as damaged) once the
 * output passes MAX_DECOMPRESSED_BYTES, or MAX_COMPRESSION_RATIO times the compressed bytes
 * read so far (`compressedBytes()`, the file stream's bytesRead).
 */
export function decompressionLimit(compressedBytes: () => number): Transform {
  let out = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      out += chunk.length;
      const compressed = Math.max(1, compressedBytes());
      if (out > MAX_DECOMPRESSED_BYTES) {
        done(
          new DecompressionBombError(
            `decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes; reading stopped`,
          ),
        );
      } else if (out > MIN_BYTES_FOR_RATIO && out / compressed > MAX_COMPRESSION_RATIO) {
        done(
          new DecompressionBombError(
            `decompresses more than ${MAX_COMPRESSION_RATIO} times its size (a decompression bomb?); reading stopped`,
          ),
        );
      } else {
        done(null, chunk);
      }
    },
  });
}

export type SplitLine =
  | { kind: "line"; n: number; text: string }
  | { kind: "bad"; n: number; raw: string; reason: string };

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const NEWLINE = 0x0a;

/**
 * Lines of `chunks`, numbered from 1, each decoded as strict UTF-8 (a line that is not is
 * reported alone, the next one read). A line longer than `maxBytes` is reported and skipped up
 * to its end, holding at most `maxBytes` in memory.
 */
export async function* splitLines(
  chunks: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<SplitLine> {
  let parts: Buffer[] = [];
  let held = 0;
  let tooLong = false;
  let n = 0;
  const finish = (last: Buffer): SplitLine => {
    n++;
    if (tooLong) {
      tooLong = false;
      parts = [];
      held = 0;
      return { kind: "bad", n, raw: "", reason: `line ${n} is longer than ${maxBytes} bytes` };
    }
    const bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    parts = [];
    held = 0;
    try {
      return { kind: "line", n, text: UTF8.decode(bytes) };
    } catch {
      return {
        kind: "bad",
        n,
        raw: bytes.toString("utf8").slice(0, 4096),
        reason: `line ${n} is not valid UTF-8 text`,
      };
    }
  };
  const hold = (part: Buffer) => {
    if (tooLong) {
      return;
    }
    if (held + part.length > maxBytes) {
      tooLong = true;
      parts = [];
      held = 0;
      return;
    }
    parts.push(part);
    held += part.length;
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE, from); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      const end = at > from && chunk[at - 1] === 0x0d ? at - 1 : at;
      if (held + (end - from) > maxBytes) {
        tooLong = true;
      }
      yield finish(chunk.subarray(from, end));
      from = at + 1;
    }
    if (from < chunk.length) {
      hold(chunk.subarray(from));
    }
  }
  if (held > 0 || tooLong) {
    yield finish(Buffer.alloc(0));
  }
}
