/**
 * Configuration of the recording store (src/recordings/): where copies are kept (a folder or
 * S3), which hosts the fetcher may download from, and its limits.
 */
import { resolve as resolvePath } from "node:path";

import { z } from "zod";

import {
  commaList,
  emptyAsUndefined,
  endpoint,
  intInRange,
  onOff,
  optionalString,
  stringWithDefault,
  type Parsed,
} from "./parse.js";

/** Where recordings are kept (VMS_RECORDINGS_STORE); see src/recordings/stores.ts. */
export type RecordingStoreConfig =
  | { kind: "off" }
  /** `dir` is absolute (resolved against the working directory at start). */
  | { kind: "file"; dir: string }
  | { kind: "s3"; bucket: string; prefix: string };

const recordingStore = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default("file://./recordings")
    .transform((s, ctx): RecordingStoreConfig => {
      const t = s.trim();
      if (t.toLowerCase() === "off") {
        return { kind: "off" };
      }
      // file://./dir and file://dir are relative (a URL parser would take "." as a host).
      const file = /^file:\/\/(.+)$/.exec(t);
      if (file) {
        return { kind: "file", dir: resolvePath(decodeURIComponent(file[1] as string)) };
      }
      const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(t);
      if (s3) {
        const prefix = (s3[2] ?? "").replace(/^\/+|\/+$/g, "");
        return { kind: "s3", bucket: s3[1] as string, prefix: prefix === "" ? "" : `${prefix}/` };
      }
      ctx.addIssue({
        code: "custom",
        message: `must be file://<dir>, s3://<bucket>/<prefix> or off, got "${t}"`,
      });
      return z.NEVER;
    }),
);

/** VMS_RECORDINGS_HOSTS: host names, a leading `*.` matching sub-domains; OSS by default. */
const recordingHosts = commaList(
  "aliyuncs.com,*.aliyuncs.com",
  (h) => /^(\*\.)?[a-z0-9]([a-z0-9.:[\]-]*[a-z0-9\]])?$/.test(h),
  (bad, s) =>
    `must be a comma list of host names (a leading *. matches sub-domains), got "${bad ?? s}"`,
  (h) => h.toLowerCase(),
);

export const recordingsEnv = {
  VMS_RECORDINGS_STORE: recordingStore,
  VMS_RECORDINGS_S3_ENDPOINT: z.preprocess(emptyAsUndefined, endpoint("").optional()),
  VMS_RECORDINGS_S3_REGION: stringWithDefault("us-east-1"),
  VMS_RECORDINGS_S3_FORCE_PATH_STYLE: onOff,
  VMS_RECORDINGS_HOSTS: recordingHosts,
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  VMS_RECORDINGS_CONCURRENCY: intInRange(1, 64, 4),
  /** 0: no cap. Shared by every download of one process. */
  VMS_RECORDINGS_MAX_BYTES_PER_S: intInRange(0, 10 * 1024 * 1024 * 1024, 0),
  VMS_RECORDINGS_MAX_BYTES: intInRange(1024, 64 * 1024 * 1024 * 1024, 2 * 1024 * 1024 * 1024),
};

export interface RecordingsConfig {
  store: RecordingStoreConfig;
  s3: {
    endpoint: string | undefined;
    region: string;
    forcePathStyle: boolean;
    /** AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when both are set; else the SDK's own chain. */
    credentials:
      { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  };
  /** Hosts the fetcher may connect to; `*.example.com` matches sub-domains only. */
  hosts: string[];
  concurrency: number;
  /** Bytes per second across all downloads of the process; 0 = no cap. */
  maxBytesPerSecond: number;
  /** Largest recording accepted; a bigger one ends `failed` (too_large). */
  maxBytes: number;
}

export function recordingsConfig(e: Parsed<typeof recordingsEnv>): RecordingsConfig {
  return {
    store: e.VMS_RECORDINGS_STORE,
    s3: {
      endpoint: e.VMS_RECORDINGS_S3_ENDPOINT,
      region: e.VMS_RECORDINGS_S3_REGION,
      forcePathStyle: e.VMS_RECORDINGS_S3_FORCE_PATH_STYLE ?? false,
      credentials:
        e.AWS_ACCESS_KEY_ID !== undefined && e.AWS_SECRET_ACCESS_KEY !== undefined
          ? {
              accessKeyId: e.AWS_ACCESS_KEY_ID,
              secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
              ...(e.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: e.AWS_SESSION_TOKEN }),
            }
          : undefined,
    },
    hosts: e.VMS_RECORDINGS_HOSTS,
    concurrency: e.VMS_RECORDINGS_CONCURRENCY,
    maxBytesPerSecond: e.VMS_RECORDINGS_MAX_BYTES_PER_S,
    maxBytes: e.VMS_RECORDINGS_MAX_BYTES,
  };
}
