/**
 * `voice-receipts simulate [--port P] [--credentials-file F]`: serve the simulated Alibaba Cloud
 * account until SIGTERM/SIGINT. Its AccessKey pair is, in order: ALIBABA_CLOUD_ACCESS_KEY_ID/
 * SECRET when set; the pair in --credentials-file when that file exists; else a generated pair,
 * written to --credentials-file when given (so a restart keeps the keys a running daemon holds).
 * The queues of VMS_MNS_QUEUES (or one default queue per known receipt type) exist in it. What
 * it prints can be pasted into a shell: `export` lines and `#` comments.
 */
import { chmod, readFile, writeFile } from "node:fs/promises";

import { loadConfig } from "../config/index.js";
import { ConfigError } from "../errors.js";
import { createLogger } from "../logger.js";
import {
  generateAccountCredentials,
  startSimulator,
  type AccountCredentials,
} from "../simulator/index.js";
import { SIMULATED_QUEUES, mnsQueuesVariable } from "../simulator/daemonEnv.js";
import { startTraffic } from "../simulator/traffic.js";

export interface SimulateOptions {
  port: number;
  /**
   * Interface to listen on. Default 0.0.0.0 so `docker compose` can reach the simulator from the
   * daemon's container; MNS and RPC requests are signature-checked, /__control/ is not (it only
   * steers the simulator). Pass 127.0.0.1 to keep it local.
   */
  host?: string;
  env?: Record<string, string | undefined>;
  /** Where the endpoint lines go; default stdout. */
  out?: (line: string) => void;
  /** Resolves the command instead of a signal (tests). */
  signal?: AbortSignal;
  /** Generate this many calls per second and deliver their receipts (MNS, and push if pushUrl). */
  traffic?: number;
  /** Receiver for half of the generated traffic, `{messageType}` substituted. */
  pushUrl?: string;
  /** Where the account's AccessKey pair is kept across restarts (read, or written once). */
  credentialsFile?: string;
}

const ID_VAR = "ALIBABA_CLOUD_ACCESS_KEY_ID";
const SECRET_VAR = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

/** A value as a POSIX shell word: bare when safe, else single-quoted. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:@%+,=^-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

const exportLine = (name: string, value: string) => `export ${name}=${shellWord(value)}`;

/**
 * Reads the pair back from a credentials file this command wrote (`export NAME=value` lines,
 * values as shellWord quotes them); null when the file does not exist. Hand-written because
 * the file is ours and two lines long: a dotenv library would accept more than we write.
 */
async function readCredentialsFile(path: string): Promise<AccountCredentials | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return null;
    }
    throw new ConfigError(
      `simulate: --credentials-file ${path} cannot be read: ${(err as Error).message}`,
    );
  }
  const values = new Map<string, string>();
  for (const m of text.matchAll(/^(?:export\s+)?([A-Z_]+)=(?:'((?:[^']|'\\'')*)'|(\S*))\s*$/gm)) {
    values.set(m[1]!, m[2] !== undefined ? m[2].replaceAll(`'\\''`, "'") : (m[3] ?? ""));
  }
  const accessKeyId = values.get(ID_VAR);
  const accessKeySecret = values.get(SECRET_VAR);
  if (!accessKeyId || !accessKeySecret) {
    throw new ConfigError(
      `simulate: --credentials-file ${path} does not hold ${ID_VAR} and ${SECRET_VAR}; delete it to generate a new pair`,
    );
  }
  return { accessKeyId, accessKeySecret };
}

async function writeCredentialsFile(path: string, c: AccountCredentials): Promise<void> {
  const text = [
    "# voice-receipts simulator account (simulate --credentials-file); source it in the daemon's shell",
    exportLine(ID_VAR, c.accessKeyId),
    exportLine(SECRET_VAR, c.accessKeySecret),
    "",
  ].join("\n");
  // wx: never overwrite a pair someone else just wrote; 0600: it is a secret.
  await writeFile(path, text, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
}

export async function simulateCommand(opts: SimulateOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const fromEnv =
    env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim() || env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  const fromFile =
    fromEnv || opts.credentialsFile === undefined
      ? null
      : await readCredentialsFile(opts.credentialsFile);
  const generated = fromEnv ? undefined : (fromFile ?? generateAccountCredentials());
  if (!fromEnv && !fromFile && generated && opts.credentialsFile !== undefined) {
    await writeCredentialsFile(opts.credentialsFile, generated);
  }
  // Validate the environment as the daemon would; generated keys stand in for absent ones so
  // VMS_MNS_QUEUES without credentials is not an error here.
  const config = loadConfig(
    generated
      ? {
          ...env,
          ALIBABA_CLOUD_ACCESS_KEY_ID: generated.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: generated.accessKeySecret,
        }
      : env,
  );
  const credentials = generated ?? config.credentials;
  if (!credentials) {
    throw new Error("unreachable: loadConfig accepted a half-set AccessKey pair");
  }
  const queues = config.mns.queues.length > 0 ? config.mns.queues : SIMULATED_QUEUES;
  const logger = createLogger({ level: config.log.level }).child({ component: "simulator" });
  const sim = await startSimulator({
    port: opts.port,
    host: opts.host ?? "127.0.0.1",
    credentials,
    queues,
    logger,
  });

  // Everything printed pastes into a shell: export lines, and comments.
  out(`# voice-receipts simulator listening on ${opts.host ?? "127.0.0.1"}:${sim.port}`);
  out(exportLine("VMS_MNS_ENDPOINT", sim.url));
  out(exportLine("VMS_TOKEN_ENDPOINT", sim.url));
  out(exportLine("VMS_API_ENDPOINT", sim.url));
  out(exportLine("VMS_MNS_QUEUES", mnsQueuesVariable(queues)));
  out(exportLine(ID_VAR, credentials.accessKeyId));
  if (generated) {
    out(exportLine(SECRET_VAR, generated.accessKeySecret));
    out(
      fromFile
        ? `# AccessKey pair from ${opts.credentialsFile}`
        : opts.credentialsFile !== undefined
          ? `# AccessKey pair generated and kept in ${opts.credentialsFile} for the next start`
          : "# AccessKey pair generated for this run; --credentials-file FILE keeps it across restarts",
    );
  } else {
    out(`# ${SECRET_VAR}: the one in your environment`);
  }
  out(
    `# generate calls: curl -s -X POST ${sim.url}/__control/calls -d '{"count":20}'  (counters: GET ${sim.url}/__control/counters)`,
  );

  const traffic =
    opts.traffic && opts.traffic > 0
      ? startTraffic({
          control: sim.control,
          callsPerSecond: opts.traffic,
          pushUrl: opts.pushUrl,
          out,
        })
      : undefined;
  if (traffic) {
    out(
      `# generating ${opts.traffic} calls/s: receipts to the MNS queues${opts.pushUrl ? ` and pushed to ${opts.pushUrl.replace(/token=[^&]*/, "token=***")}` : ""}`,
    );
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      opts.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    opts.signal?.addEventListener("abort", stop);
    if (opts.signal?.aborted) {
      stop();
    }
  });
  await traffic?.stop();
  await sim.close();
  logger.info("simulator: stopped");
  logger.flush();
}
