import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Three tiers (CONTRIBUTING.md, "Test tiers"), each a vitest project:
//   unit  `*.spec.ts` beside the code: no processes, short timeouts; runs first, on a quiet machine.
//   e2e   `test/*.test.ts`: real fw-server / fw-worker / fw processes from dist/ (npm's pretest builds it).
//   env   the `test/*.test.ts` files that call missing(…) from test/helpers/requires.ts: they also need
//         something outside npm (Chromium, redis-server, network namespaces, PostgreSQL). Without it
//         they skip with one line naming the Debian package, or fail when CI is set.
// Env files are found by that call, so a new one needs no change here.

const ENV_CALL = /\bmissing\(\s*"/;
const TEST_DIR = fileURLToPath(new URL("./test/", import.meta.url));
const envTests = readdirSync(TEST_DIR, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".test.ts") && ENV_CALL.test(readFileSync(TEST_DIR + f, "utf8")))
  .map((f) => `test/${f}`);

/** Timeouts for tests that start processes: room for a loaded 2-core machine. */
const processTimeouts = { testTimeout: 60_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    // Every project runs in forks (vitest's default pool): a test file gets a process of its own.
    // The machines have 2 cores, shared; every e2e test starts 2–5 processes of its own.
    maxWorkers: 2,
    // Fail loudly instead of hanging if a test leaves a handle open.
    teardownTimeout: 10_000,
    projects: [
      {
        test: {
          name: "unit",
          include: ["{common,server,worker,client,cli}/**/*.spec.ts"],
          setupFiles: ["test/helpers/unit-setup.ts"],
          testTimeout: 10_000,
          hookTimeout: 10_000,
          // Before the process tiers: their short timeouts assume the machine is not busy with our own servers.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          exclude: envTests,
          ...processTimeouts,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "env",
          // An empty list would mean "the default include": match nothing instead.
          include: envTests.length > 0 ? envTests : ["test/no-env-tests"],
          ...processTimeouts,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
