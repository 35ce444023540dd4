/**
 * VMS_RECORDINGS_STORE=file://<dir>: one file per recording under <dir>/<key>. Written to a
 * temporary name beside it, flushed to disk, then renamed: a rename within one directory is
 * atomic, so readers see either nothing or the whole recording.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";

import { assertSafeKey, type ObjectStore } from "./objectStore.js";

export function createFileStore(dir: string): ObjectStore {
  const pathOf = (key: string) => {
    assertSafeKey(key);
    return join(dir, key);
  };
  return {
    location: `file://${dir}`,
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // A dot name: a killed process's leftovers are recognisable and never mistaken for a key.
      const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.part`);
      try {
        await pipeline(body, createWriteStream(temp, { flags: "wx" }));
        // On disk before it gets its name: a power loss must not leave a named, empty file.
        const file = await open(temp, "r+");
        try {
          await file.sync();
        } finally {
          await file.close();
        }
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      await rename(temp, path);
    },
    async get(key) {
      const path = pathOf(key);
      const stream = createReadStream(path);
      // Surface "no such file" here rather than on the first read.
      await new Promise<void>((resolve, reject) => {
        stream.once("open", () => resolve());
        stream.once("error", reject);
      });
      return stream;
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    close() {},
  };
}
