/**
 * Ordered, idempotent, bounded shutdown. Steps run one after another in the order registered
 * (stop intake → drain work → close queues → close connections); each step is logged and its
 * failure does not stop the next. The whole sequence has a deadline.
 */
import type { Logger } from "./logger.js";

export interface ShutdownStep {
  name: string;
  run(): Promise<unknown>;
}

export async function runShutdown(
  steps: readonly ShutdownStep[],
  logger: Logger,
  deadlineMs: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), deadlineMs);
    timer.unref();
  });
  const sequence = (async () => {
    for (const step of steps) {
      const started = Date.now();
      logger.debug({ step: step.name }, "shutdown step");
      try {
        await step.run();
        logger.info({ step: step.name, ms: Date.now() - started }, "shutdown step done");
      } catch (err) {
        logger.error({ step: step.name, err }, "shutdown step failed");
      }
    }
    return true;
  })();
  const finished = await Promise.race([sequence, deadline]);
  clearTimeout(timer);
  if (!finished) {
    logger.error({ deadlineMs }, "shutdown did not finish before its deadline");
  }
  return finished;
}
