/**
 * Streams handed to a command in place of stdout and stderr: one that keeps what is written to
 * it, for a test to read, and one that drops it.
 */
import { Writable } from "node:stream";

export function captureStream(): { stream: NodeJS.WriteStream; text(): string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

export const discardStream = () =>
  new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
