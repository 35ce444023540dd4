/**
 * bench/reconcileLag.ts — what the first query of a fresh call costs when the account's detail
 * lag is longer than VMS_RECONCILE_DELAY_SECONDS (issue #24), scaled down to seconds: the
 * simulator shows a call's detail `--lag` s after its end, fresh calls end at `--rate` per
 * second for `--seconds`, and one worker process reconciles them with the delay `--delay`.
 * Figures: requests (and empty answers) per reconciled call, and the share of calls whose first
 * round came back empty, for all calls and for those that ended in the second half of the run
 * (after the lag was learnt). Bounded to ~seconds + lag × 3.
 *
 *   npx tsx bench/reconcileLag.ts [--lag 10] [--delay 3] [--rate 10] [--seconds 40]
 *                                 [--kinds voice,verification,ivr]
 *   npx tsx bench/reconcileLag.ts --from /path/to/other/checkout   (the "before": its worker)
 *
 * `--from DIR` runs the worker of another checkout (e.g. main before the learned delay) against
 * the same simulator and feed, for a before/after on one machine.
 */
import path from "node:path";

import { Redis } from "ioredis";

import { createCallGenerator, startSimulator } from "../src/simulator/index.js";
import { endingBy, type CallKind } from "../src/simulator/calls.js";
import {
  benchPrefix,
  cleanUp,
  createBenchDb,
  dropPrefix,
  isMain,
  numberArg,
  REDIS_URL,
} from "./lib.js";
import { startChild } from "./load.js";
import { lagCapMs, learnedDelayMs } from "../src/reconcile/lagEstimate.js";

function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function run(
  o: {
    lagS?: number;
    delayS?: number;
    rate?: number;
    seconds?: number;
    from?: string;
    kinds?: CallKind[];
  } = {},
) {
  const LAG = o.lagS ?? 10;
  const DELAY = o.delayS ?? 3;
  const RATE = o.rate ?? 10;
  const SECONDS = o.seconds ?? 40;
  // One product by default: with several, empty second rounds of a lag this long also make
  // unsupportedKinds.ts judge kinds unsupported (docs/benchmarks.md), which is another matter.
  const KINDS = o.kinds ?? ["voice"];
  const sim = await startSimulator({ detailLagMs: LAG * 1000, detailQps: 100 });
  sim.control.setLatency("detail", 50);
  const db = await createBenchDb();
  const prefix = benchPrefix();
  const redis = new Redis(REDIS_URL);
  const cli = o.from ? path.join(path.resolve(o.from), "src/cli.ts") : "src/cli.ts";
  const worker = await startChild(
    [cli, "run", "--role", "worker"],
    {
      DATABASE_URL: db.url,
      REDIS_URL,
      VMS_QUEUE_PREFIX: prefix,
      ALIBABA_CLOUD_ACCESS_KEY_ID: sim.credentials.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.credentials.accessKeySecret,
      VMS_API_ENDPOINT: sim.url,
      VMS_RECONCILE: "on",
      VMS_RECONCILE_QPS: "100",
      VMS_RECONCILE_DELAY_SECONDS: String(DELAY),
      LOG_LEVEL: "info",
    },
    { ready: /"reconciler started"/ },
  );
  const gen = createCallGenerator({ seed: 24, startTime: Date.now() - 3600_000 });
  const ids: string[][] = [[], []];
  try {
    const start = Date.now();
    for (let s = 0; s < SECONDS; s++) {
      const now = Date.now();
      // Fresh calls, as the persistence workers would have stored their VoiceReport.
      const calls = gen.generate(RATE, KINDS).map((c) => {
        const moved = endingBy(c, now);
        return { ...moved, endTime: now - (now % 1000) };
      });
      sim.control.loadCalls(calls);
      await db.pool.query(
        `insert into calls (call_id, out_id, caller, callee, status_code, originate_time, end_time)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::timestamptz[], $7::timestamptz[])`,
        [
          calls.map((c) => c.callId),
          calls.map((c) => c.outId ?? null),
          calls.map((c) => c.caller),
          calls.map((c) => c.callee),
          calls.map((c) => c.statusCode),
          calls.map((c) => new Date(c.originateTime)),
          calls.map((c) => new Date(c.endTime)),
        ],
      );
      ids[s < SECONDS / 2 ? 0 : 1]!.push(...calls.map((c) => c.callId));
      await new Promise((r) => setTimeout(r, Math.max(0, start + (s + 1) * 1000 - Date.now())));
    }
    const all = [...ids[0]!, ...ids[1]!];
    const deadline = Date.now() + LAG * 3000 + 30_000;
    for (;;) {
      const { rows } = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from calls where reconcile_status <> 'pending'",
      );
      if ((rows[0]?.n ?? 0) >= all.length || Date.now() > deadline) {
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const c = sim.control.counters().detail;
    const half = async (list: string[]) => {
      const { rows } = await db.pool.query<{
        reconciled: number;
        emptyFirst: number;
        rounds: number;
      }>(
        `select count(*) filter (where reconcile_status = 'reconciled')::int as reconciled,
                count(*) filter (where reconcile_attempts > 1)::int as "emptyFirst",
                coalesce(sum(reconcile_attempts), 0)::int as rounds
           from calls where call_id = any($1)`,
        [list],
      );
      return rows[0]!;
    };
    const first = await half(ids[0]!);
    const second = await half(ids[1]!);
    const { rows: outcomes } = await db.pool.query<{ s: string; n: number }>(
      `select reconcile_status || coalesce(':' || reconcile_skip_reason, '') as s, count(*)::int as n
         from calls group by 1 order by 1`,
    );
    const learned = await redis.lrange(`${prefix}:reconcile-lag`, 0, -1);
    const reconciled = first.reconciled + second.reconciled;
    const learnedDelayS =
      learnedDelayMs(learned.map(Number), {
        configuredMs: DELAY * 1000,
        capMs: lagCapMs(DELAY * 1000, 24 * 3600_000),
      }) / 1000;
    const { rows: stuck } = await db.pool.query<{ attempts: number; dueInS: number }>(
      `select reconcile_attempts as attempts,
              extract(epoch from reconcile_due_at - now())::float8 as "dueInS"
         from calls where reconcile_status = 'pending' limit 5`,
    );
    const figures = {
      from: o.from ?? "this checkout",
      lagS: LAG,
      delayS: DELAY,
      calls: all.length,
      reconciled,
      pending: all.length - reconciled,
      requestsPerReconciled: c.calls / reconciled,
      emptyPerReconciled: c.emptyData / reconciled,
      roundsPerCallFirstHalf: first.rounds / ids[0]!.length,
      roundsPerCallSecondHalf: second.rounds / ids[1]!.length,
      emptyFirstRoundShareFirstHalf: first.emptyFirst / ids[0]!.length,
      emptyFirstRoundShareSecondHalf: second.emptyFirst / ids[1]!.length,
      lagSamples: learned.length,
      learnedDelayS,
      pendingSample: stuck,
      outcomes: Object.fromEntries(outcomes.map((r) => [r.s, r.n])),
    };
    const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
    console.log(
      [
        `\n== reconcile: fresh calls, detail lag ${LAG} s, first-query delay ${DELAY} s (worker from ${figures.from})`,
        `calls reconciled / not reconciled: ${reconciled} / ${figures.pending} ${JSON.stringify(figures.outcomes)}`,
        `requests per reconciled call: ${figures.requestsPerReconciled.toFixed(2)}`,
        `empty answers per reconciled call: ${figures.emptyPerReconciled.toFixed(2)}`,
        `rounds per call (1st half / 2nd half): ${figures.roundsPerCallFirstHalf.toFixed(2)} / ${figures.roundsPerCallSecondHalf.toFixed(2)}`,
        `empty first rounds (1st half / 2nd half): ${pct(figures.emptyFirstRoundShareFirstHalf)} / ${pct(figures.emptyFirstRoundShareSecondHalf)}`,
        `learned first-query delay at the end: ${learnedDelayS} s (${figures.lagSamples} samples)`,
        ...(stuck.length > 0 ? [`pending (sample): ${JSON.stringify(stuck)}`] : []),
      ].join("\n"),
    );
    return figures;
  } finally {
    await cleanUp(
      () => worker.stop(),
      async () => redis.disconnect(),
      () => sim.close(),
      () => db.drop(),
      () => dropPrefix(prefix),
    );
  }
}

if (isMain(import.meta.url)) {
  const from = stringArg("from");
  const kinds = stringArg("kinds");
  await run({
    ...(numberArg("lag") === undefined ? {} : { lagS: numberArg("lag")! }),
    ...(numberArg("delay") === undefined ? {} : { delayS: numberArg("delay")! }),
    ...(numberArg("rate") === undefined ? {} : { rate: numberArg("rate")! }),
    ...(numberArg("seconds") === undefined ? {} : { seconds: numberArg("seconds")! }),
    ...(from === undefined ? {} : { from }),
    ...(kinds === undefined ? {} : { kinds: kinds.split(",") as CallKind[] }),
  });
}
