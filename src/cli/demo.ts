import { runDemo } from "../demo/runDemo.js";

export async function demoCommand(opts: { calls: number }): Promise<void> {
  const started = Date.now();
  await runDemo({
    calls: opts.calls,
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
