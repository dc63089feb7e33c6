import { Child } from "../lib/child.js";
import { repoPath, TSX_FLAGS } from "../lib/paths.js";
import { allReady, profileFlags, withWorkers, type Deployment, type DeployOptions, type System } from "./system.js";

const READY_TIMEOUT_MS = 30_000;
export const TASK_MODULE = "bench/workers/noop-tasks.mjs";

/** The environment without FW_* settings from the caller's shell, with JSON logs. */
function fwEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("FW_")) env[key] = value;
  return { ...env, FW_LOG_FORMAT: "json" };
}

/**
 * fastworker as users run it: `fw-server` with no embedded tasks on free
 * loopback ports, and `fw-worker --concurrency N` processes serving the
 * benchmark's task module. Logs at warn so logging does not weigh on the run.
 */
export const fastworker: System = {
  name: "fastworker",
  async deploy(options: DeployOptions): Promise<Deployment> {
    // Results must outlive the run: the producer waits for every one of them.
    const maxResults = String(Math.max(10_000, Math.ceil(options.expectedTasks * 1.1)));
    const serverArgs = options.instrumented
      ? [...TSX_FLAGS, repoPath("bench/breakdown/instrumented-server.ts"), "--max-results", maxResults]
      : [repoPath("dist/cli/fw-server.js"), "--in-memory", "--port", "0", "--http-port", "0", "--max-results", maxResults, "--log-level", "warn"];
    const broker = Child.start({
      name: options.instrumented ? "instrumented-server" : "fw-server",
      command: process.execPath,
      args: [...profileFlags(options.profileDir, "fw-server"), ...serverArgs],
      cwd: repoPath(""),
      env: fwEnv(),
      ipc: options.instrumented,
    });
    let server: string;
    try {
      const line = await broker.waitForLine(/^fw-server ready /, READY_TIMEOUT_MS);
      server = /grpc=(\S+)/.exec(line)![1]!;
    } catch (err) {
      await broker.stop({ graceMs: 2000 });
      throw err;
    }
    const workers: Child[] = [];
    const deployment: Deployment = {
      system: "fastworker",
      target: { system: "fastworker", server },
      broker,
      workers,
      async startWorkers(count: number): Promise<void> {
        const started = Array.from({ length: count }, () => {
          const n = workers.length + 1;
          const child = Child.start({
            name: `fw-worker-${n}`,
            command: process.execPath,
            args: [
              ...profileFlags(options.profileDir, "fw-worker"),
              repoPath("dist/cli/fw-worker.js"),
              "--server", server,
              "--tasks", repoPath(TASK_MODULE),
              "--concurrency", String(options.concurrency),
              "--name", `bench-worker-${n}`,
              "--log-level", "warn",
            ],
            cwd: repoPath(""),
            env: fwEnv(),
          });
          workers.push(child);
          return child;
        });
        await allReady(started, (child) => child.waitForLine(/^fw-worker ready /, READY_TIMEOUT_MS));
      },
      async stop(): Promise<void> {
        await Promise.all(workers.map((w) => w.stop({ graceMs: 15_000 })));
        await broker.stop({ graceMs: 15_000 });
      },
    };
    return withWorkers(deployment, options.workers);
  },
};
