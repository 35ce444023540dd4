/**
 * Where recordings are kept (VMS_RECORDINGS_STORE). `put` is all-or-nothing: an object becomes
 * visible under its key only once the whole body was read without error (a temporary file
 * renamed, or a multipart upload completed), so a partial download never looks stored.
 */
import type { Readable } from "node:stream";

import type { Config, RecordingStoreConfig } from "../config/index.js";

export interface ObjectStore {
  /** `file:///abs/dir` or `s3://bucket/prefix`, for logs and messages (no credentials). */
  readonly location: string;
  /** Store `body` under `key`; rejects (leaving nothing under `key`) when `body` errors. */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** The stored bytes as a stream. */
  get(key: string): Promise<Readable>;
  /** Remove the object; absent objects are not an error. */
  delete(key: string): Promise<void>;
  close(): void;
}

/** Keys are ours (yyyy/mm/dd/<call>-<hash>.<ext>); anything else is a bug or a hostile row. */
export function assertSafeKey(key: string): void {
  if (
    !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) ||
    key.split("/").some((p) => p === ".." || p === "")
  ) {
    throw new Error(`unsafe recording key ${JSON.stringify(key)}`);
  }
}

export async function openObjectStore(config: Config): Promise<ObjectStore | undefined> {
  const store: RecordingStoreConfig = config.recordings.store;
  switch (store.kind) {
    case "off":
      return undefined;
    case "file": {
      const { createFileStore } = await import("./fileStore.js");
      return createFileStore(store.dir);
    }
    case "s3": {
      const { createS3Store } = await import("./s3Store.js");
      return createS3Store(store, config.recordings.s3);
    }
  }
}
