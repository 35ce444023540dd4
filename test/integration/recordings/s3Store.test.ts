/**
 * Recording store on the S3 protocol (VMS_RECORDINGS_STORE=s3://bucket/prefix) against s3rver,
 * a real S3-protocol server started here: see scenario.ts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";

import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { describe } from "vitest";

import { recordingStoreScenario } from "./scenario.js";

const BUCKET = "vr-recordings";
const PREFIX = "calls/";

describe("recording store: S3 protocol (s3rver)", () => {
  recordingStoreScenario(async () => {
    const dir = await mkdtemp(join(tmpdir(), "vr-s3rver-"));
    const server = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: dir,
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await server.run();
    const endpoint = `http://127.0.0.1:${port}`;
    const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
    const client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials,
    });
    return {
      env: {
        VMS_RECORDINGS_STORE: `s3://${BUCKET}/${PREFIX}`,
        VMS_RECORDINGS_S3_ENDPOINT: endpoint,
        VMS_RECORDINGS_S3_FORCE_PATH_STYLE: "on",
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      async list() {
        const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
        return (res.Contents ?? []).map((o) => (o.Key ?? "").slice(PREFIX.length));
      },
      async read(key) {
        const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: PREFIX + key }));
        return res.Body as Readable;
      },
      async close() {
        client.destroy();
        await server.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});
