/**
 * `voice-receipts simulate [--port P]` (README "Commands"): serve the simulated Alibaba Cloud
 * account until SIGTERM/SIGINT. It accepts ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET when set, otherwise
 * it generates a pair and prints it; the queues of VMS_MNS_QUEUES (or one default queue per known
 * receipt type) exist in it.
 */
import { loadConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { generateAccountCredentials, startSimulator } from "../simulator/index.js";
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
}

export async function simulateCommand(opts: SimulateOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const fromEnv =
    env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim() || env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  const generated = fromEnv ? undefined : generateAccountCredentials();
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

  out(`voice-receipts simulator listening on ${opts.host ?? "127.0.0.1"}:${sim.port}`);
  out(`VMS_MNS_ENDPOINT=${sim.url}`);
  out(`VMS_TOKEN_ENDPOINT=${sim.url}`);
  out(`VMS_API_ENDPOINT=${sim.url}`);
  out(`VMS_MNS_QUEUES=${mnsQueuesVariable(queues)}`);
  out(`ALIBABA_CLOUD_ACCESS_KEY_ID=${credentials.accessKeyId}`);
  out(
    generated
      ? `ALIBABA_CLOUD_ACCESS_KEY_SECRET=${generated.accessKeySecret}`
      : "ALIBABA_CLOUD_ACCESS_KEY_SECRET=(from your environment)",
  );
  out(
    `generate calls: curl -s -X POST ${sim.url}/__control/calls -d '{"count":20}'  (counters: GET ${sim.url}/__control/counters)`,
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
      `generating ${opts.traffic} calls/s: receipts to the MNS queues${opts.pushUrl ? ` and pushed to ${opts.pushUrl.replace(/token=[^&]*/, "token=***")}` : ""}`,
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
