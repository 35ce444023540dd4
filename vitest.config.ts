import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files run real servers; two at a time matches the 2-core machines we run on.
    maxWorkers: 2,
    minWorkers: 1,
    pool: "forks",
    reporters: ["default"],
  },
});
