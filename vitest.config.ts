import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "{common,server,worker,client,cli}/**/*.spec.ts"],
    // End-to-end tests spawn real processes; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 2,
    // Fail loudly instead of hanging if a test leaves a handle open.
    teardownTimeout: 10_000,
  },
});
