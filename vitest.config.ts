import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    // A safety net, not an assertion: many tests wait (waitFor) up to 30–60 s for work that
    // takes seconds on a quiet machine, and a test must outlive its own waits on a busy 2-core
    // one (30 s here failed tests that were still making progress under load).
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Integration files run real servers; two at a time matches the 2-core machines we run on.
    maxWorkers: 2,
    minWorkers: 1,
    pool: "forks",
    reporters: ["default"],
  },
});
