/**
 * VMS_RECORDINGS_MAX_BYTES_PER_S: one byte budget shared by every download of the process.
 * Hand-written because the stream throttles on npm are per stream and unmaintained; this is
 * virtual scheduling: each chunk books the next slice of line time and waits until it starts.
 */
import { Transform } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

export interface ByteRate {
  /** A pass-through stream that holds chunks back to the shared rate (none when unlimited). */
  stream(): Transform;
}

export function createByteRate(bytesPerSecond: number): ByteRate {
  let nextFree = 0;
  return {
    stream() {
      return new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (bytesPerSecond <= 0) {
            done(null, chunk);
            return;
          }
          const now = performance.now();
          const start = Math.max(now, nextFree);
          nextFree = start + (chunk.length * 1000) / bytesPerSecond;
          const wait = start - now;
          if (wait < 1) {
            done(null, chunk);
          } else {
            sleep(wait).then(
              () => done(null, chunk),
              (err: unknown) => done(err as Error),
            );
          }
        },
      });
    },
  };
}
