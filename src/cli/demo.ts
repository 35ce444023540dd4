/**
 * `voice-receipts demo [--calls N]` runs the demo in a database of its own;
 * `voice-receipts demo --clean` removes the databases and queue keys earlier runs kept.
 */
import { loadConfig } from "../config/index.js";
import { cleanDemos } from "../demo/isolation.js";
import { runDemo } from "../demo/runDemo.js";

export async function demoCommand(opts: { calls: number; clean?: boolean }): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (opts.clean === true) {
    const config = loadConfig(process.env);
    await cleanDemos({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl }, out);
    return;
  }
  const started = Date.now();
  await runDemo({ calls: opts.calls, env: process.env, out });
  process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
