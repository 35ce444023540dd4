/**
 * Our own services failing under load, daemon in-process: F2 Redis killed with SIGKILL and
 * restarted (a redis-server of the test's own, AOF `appendfsync always`), F3 PostgreSQL
 * unreachable (a TCP proxy in front of it is cut: every connection reset, new ones refused).
 * Each run must end with nothing acknowledged lost, nothing duplicated, no job failed for good.
 */
import { describe, expect, it } from "vitest";

import { pick, RUN_TIMEOUT_MS } from "./profile.js";
import { runScenario } from "./scenario.js";

/** How long a fault lasts (not synchronisation: nothing waits for a result here). */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("faults of Redis and PostgreSQL", () => {
  it(
    "F2: Redis killed with SIGKILL and restarted: no acknowledged receipt lost, work resumes without a restart",
    async () => {
      const kills = pick(1, 3);
      const run = await runScenario({
        name: "F2-redis-kill",
        calls: pick(300, 3000),
        seconds: pick(6, 75),
        ownRedis: true,
        async nemesis(c) {
          const gapMs = pick(2000, 15_000);
          for (let i = 0; i < kills; i++) {
            await pause(gapMs);
            await c.redis?.kill();
            await pause(pick(2000, 5000));
            await c.redis?.restart();
          }
          c.notes.redisKills = kills;
        },
      });
      expect(run.problems).toEqual({});
      expect(run.failedJobs).toBe(0);
      expect(run.report.rows).toBe(run.report.distinctExpected);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "F3: PostgreSQL unreachable in the middle of the load: pushes are refused, not lost, and the backlog drains",
    async () => {
      const outageMs = pick(4000, 60_000);
      const run = await runScenario({
        name: "F3-postgres-outage",
        calls: pick(300, 3000),
        seconds: pick(8, 90),
        pgProxy: true,
        async nemesis(c) {
          await pause(pick(2000, 15_000));
          await c.pgProxy?.cut();
          await pause(outageMs);
          await c.pgProxy?.restore();
          c.notes.postgresOutageSeconds = outageMs / 1000;
        },
      });
      expect(run.problems).toEqual({});
      expect(run.failedJobs).toBe(0);
      // The outage was felt: pushes were refused and retried.
      expect(run.report.delivered).toBeGreaterThan(run.report.distinctExpected);
    },
    RUN_TIMEOUT_MS,
  );
});
