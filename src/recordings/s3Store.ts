/**
 * VMS_RECORDINGS_STORE=s3://bucket/prefix: any S3-compatible store (AWS S3, Alibaba OSS with its
 * S3-compatible endpoint, MinIO). @aws-sdk/lib-storage's Upload streams the body as a multipart
 * upload (parts of PART_SIZE, QUEUE_SIZE in flight, so memory is bounded whatever the size) and
 * completes it only after the body ended cleanly; a body error aborts the upload, leaving no
 * object. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the configuration's
 * environment, else the SDK's default chain (profiles, instance roles); never logged.
 */
import type { Readable } from "node:stream";

import { DeleteObjectCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

import type { Config } from "../config/index.js";
import { assertSafeKey, type ObjectStore } from "./objectStore.js";

/** The smallest part S3 accepts (5 MiB) is also OSS's minimum; 8 MiB keeps part counts low. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

export function createS3Store(
  store: { bucket: string; prefix: string },
  s3: Config["recordings"]["s3"],
): ObjectStore {
  const client = new S3Client({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
    ...(s3.credentials === undefined ? {} : { credentials: s3.credentials }),
  });
  const keyOf = (key: string) => {
    assertSafeKey(key);
    return `${store.prefix}${key}`;
  };
  return {
    location: `s3://${store.bucket}/${store.prefix}`,
    async put(key, body, contentType) {
      const upload = new Upload({
        client,
        params: { Bucket: store.bucket, Key: keyOf(key), Body: body, ContentType: contentType },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      // Upload reads the body itself; an error on it (a truncated download) must abort the upload.
      let failed: unknown;
      body.once("error", (err) => {
        failed = err;
        void upload.abort().catch(() => {});
      });
      await upload.done().catch((err: unknown) => {
        throw failed ?? err;
      });
      if (failed !== undefined) {
        throw failed;
      }
    },
    async get(key) {
      const res = await client.send(
        new GetObjectCommand({ Bucket: store.bucket, Key: keyOf(key) }),
      );
      return res.Body as Readable;
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: keyOf(key) }));
    },
    close() {
      client.destroy();
    },
  };
}
