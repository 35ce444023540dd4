/**
 * A running part of the daemon as the composition root sees it: started once, stopped once, in
 * the order its builder lists it. Features add themselves by adding a component to a list
 * (src/app/worker.ts, src/app/ingest.ts), not by editing buildApp.
 */
import type { ShutdownStep } from "../shutdown.js";

export interface Component {
  /** The shutdown step's name, in logs ("shutdown step done"). */
  name: string;
  start(): void | Promise<void>;
  /** Bounded by the shutdown deadline; must also work when start() was never called. */
  stop(): Promise<unknown>;
}

/** Start components one after another, in list order. */
export async function startAll(components: readonly Component[]): Promise<void> {
  for (const c of components) {
    await c.start();
  }
}

/** Their stop steps, in list order. */
export const stopSteps = (components: readonly Component[]): ShutdownStep[] =>
  components.map((c) => ({ name: c.name, run: () => c.stop() }));
