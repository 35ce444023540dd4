/**
 * The daemon reconciling against the simulator's QueryCallDetailByCallId over real HTTP: a test
 * database, the simulator, and the daemon (all roles, in-process) with a BullMQ prefix of its
 * own, as the reconcile and outcome-event tests start them.
 */
import type pg from "pg";

import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from "../../src/simulator/index.js";
import { startTestApp, type TestApp } from "./app.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { openInOrder } from "./openInOrder.js";
import { deleteKeysWithPrefix, randomPrefix } from "./redis.js";

/**
 * The daemon's environment for reconciling at once: the simulator's credentials and endpoint,
 * reconcile on, no delay, and a 1 h give-up window (measured from the call's end, so the
 * simulator's recent calls are asked and old fixtures end not_found).
 */
export function reconcileEnv(
  sim: Simulator,
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
    VMS_API_ENDPOINT: sim.url,
    VMS_RECONCILE: "on",
    VMS_RECONCILE_DELAY_SECONDS: "0",
    VMS_RECONCILE_GIVE_UP_HOURS: "1",
    ...more,
  };
}

export interface ReconcilingDaemon {
  db: TestDatabase;
  sim: Simulator;
  t: TestApp;
  /** Stops the daemon and the simulator, drops the database, removes the prefix's keys. */
  stop(): Promise<void>;
}

export function startReconcilingDaemon(opts: {
  simulator: SimulatorOptions;
  /** Added to (or overriding) reconcileEnv's. */
  env?: Record<string, string>;
  delivery?: Parameters<typeof startTestApp>[0]["delivery"];
}): Promise<ReconcilingDaemon> {
  return openInOrder(async (later) => {
    const prefix = later(randomPrefix(), deleteKeysWithPrefix);
    const db = later(await createTestDatabase(), (d) => d.drop());
    const sim = later(await startSimulator(opts.simulator), (s) => s.close());
    const t = later(
      await startTestApp({
        databaseUrl: db.url,
        prefix,
        env: reconcileEnv(sim, opts.env),
        ...(opts.delivery ? { delivery: opts.delivery } : {}),
      }),
      (a) => a.stop(),
    );
    return { db, sim, t };
  });
}

/** Whether every call of `ids` has ended reconciliation in one of `states`. */
export async function callsSettled(
  pool: pg.Pool,
  ids: readonly string[],
  states: readonly string[] = ["reconciled", "skipped"],
): Promise<boolean> {
  const { rows } = await pool.query<{ n: number }>(
    "select count(*)::int as n from calls where call_id = any($1) and reconcile_status = any($2)",
    [ids, states],
  );
  return rows[0]?.n === ids.length;
}
