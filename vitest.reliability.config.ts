/**
 * `npm run test:reliability`: the fault runs of test/reliability/ in their full form
 * (RELIABILITY=full: minute-long loads, the 60 s PostgreSQL outage), about 7 minutes on 2 cores.
 * The same files run in their short form (seconds-long faults) inside plain `npm test`.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    env: { RELIABILITY: "full" },
    testTimeout: 600_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    minWorkers: 1,
    pool: "forks",
    reporters: ["default"],
  },
});
