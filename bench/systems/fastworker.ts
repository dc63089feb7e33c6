import { rmSync } from "node:fs";
import { Child } from "../lib/child.js";
import { freshDir, type DataRoot } from "../lib/data-root.js";
import { repoPath, TSX_FLAGS } from "../lib/paths.js";
import type { PostgresServer } from "./postgres-server.js";
import { allReady, profileFlags, withWorkers, type Deployment, type DeployOptions, type System, type SystemName } from "./system.js";

const READY_TIMEOUT_MS = 30_000;
export const TASK_MODULE = "bench/workers/noop-tasks.mjs";
/** The worker process of the scaling sweeps: several `Worker`s, many names, an echoing handler. */
const SHAPED_WORKERS = "bench/workers/fastworker-workers.mjs";

/** Where a fastworker deployment keeps its state: the one thing its variants differ in. */
export type FastworkerStore =
  /** `--in-memory`: nothing on disk. */
  | { kind: "memory" }
  /** `--data-dir`: the default local durable store (LMDB, fsync per group commit), a fresh directory per run. */
  | { kind: "data-dir"; root: DataRoot }
  /** `--store postgres://…`: a fresh database per run on the harness's PostgreSQL. */
  | { kind: "postgres"; server: PostgresServer };

/** One fastworker variant. */
export interface FastworkerVariant {
  name: SystemName;
  store: FastworkerStore;
}

/** The environment without FW_* settings from the caller's shell, with JSON logs. */
function fwEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("FW_")) env[key] = value;
  return { ...env, FW_LOG_FORMAT: "json" };
}

const DESCRIPTIONS: Record<FastworkerStore["kind"], string> = {
  memory: "fw-server --in-memory: state in memory only",
  "data-dir": "fw-server --data-dir <fresh dir under the data root>: LMDB, one fsync per group commit (acknowledged = on disk); removed after the run",
  postgres: "fw-server --store postgres://…: a fresh database per run on a PostgreSQL the harness starts (fsync, synchronous_commit on)",
};

/** The state flags of one run, and how to remove that state afterwards. */
async function prepareState(store: FastworkerStore): Promise<{ args: string[]; release(): Promise<void> }> {
  switch (store.kind) {
    case "memory":
      return { args: ["--in-memory"], release: async () => undefined };
    case "data-dir": {
      const dir = freshDir(store.root, "fw-bench-data");
      return { args: ["--data-dir", dir], release: async () => rmSync(dir, { recursive: true, force: true }) };
    }
    case "postgres": {
      const db = await store.server.database();
      return { args: ["--store", db.url], release: () => db.drop() };
    }
  }
}

/** Starts one fw-server and answers it with its gRPC address and its ready line. */
async function startControlPlane(name: string, args: readonly string[], options: DeployOptions, ipc: boolean): Promise<{ child: Child; grpc: string; line: string }> {
  const child = Child.start({ name, command: process.execPath, args: [...profileFlags(options.profileDir, "fw-server"), ...args], cwd: repoPath(""), env: fwEnv(), ipc });
  try {
    const line = await child.waitForLine(/^fw-server ready /, READY_TIMEOUT_MS);
    return { child, grpc: /grpc=(\S+)/.exec(line)![1]!, line };
  } catch (err) {
    await child.stop({ graceMs: 2000 });
    throw err;
  }
}

/**
 * fastworker as users run it: `fw-server` with no embedded tasks on free
 * loopback ports, keeping its state as the variant says, and
 * `fw-worker --concurrency N` processes serving the benchmark's task module.
 * Logs at warn so logging does not weigh on the run. With `standbys` (on
 * PostgreSQL), more control planes join the same database and stand by;
 * workers and producers are given every address and follow the leader.
 */
export function fastworkerSystem(variant: FastworkerVariant): System {
  const { store } = variant;
  return {
    name: variant.name,
    kind: "fastworker",
    description: DESCRIPTIONS[store.kind],
    async deploy(options: DeployOptions): Promise<Deployment> {
      const standbyCount = options.standbys ?? 0;
      if (options.instrumented && store.kind !== "memory") throw new Error(`${variant.name}: the instrumented control plane runs in memory only`);
      if (standbyCount > 0 && store.kind !== "postgres") throw new Error(`${variant.name}: standbys need a shared PostgreSQL store`);
      const shape = options.shape;
      // Results must outlive the run: the producer waits for every one of them (the scaling sweeps
      // follow every task, so its outcome is pushed before it could be dropped; they may lower this).
      const maxResults = String(shape?.maxResults ?? Math.max(10_000, Math.ceil(options.expectedTasks * 1.1)));
      const state = await prepareState(store);
      const payloadArgs = shape?.maxPayloadBytes === undefined ? [] : ["--max-payload", String(shape.maxPayloadBytes)];
      const serverArgs = options.instrumented
        ? [...TSX_FLAGS, repoPath("bench/breakdown/instrumented-server.ts"), "--max-results", maxResults]
        : [repoPath("dist/bin/fw-server.js"), ...state.args, "--port", "0", "--http-port", "0", "--max-results", maxResults, ...payloadArgs, "--log-level", "warn"];
      const controlPlanes: Child[] = [];
      const grpc: string[] = [];
      try {
        for (let i = 0; i <= standbyCount; i++) {
          const name = options.instrumented ? "instrumented-server" : i === 0 ? "fw-server" : `fw-server-standby-${i}`;
          const started = await startControlPlane(name, serverArgs, options, options.instrumented === true);
          controlPlanes.push(started.child);
          grpc.push(started.grpc);
          const role = /role=(\w+)/.exec(started.line)?.[1];
          const expected = i === 0 ? "leader" : "standby";
          if (standbyCount > 0 && role !== expected) throw new Error(`${name} started as ${role ?? "(no role)"}, expected ${expected}: ${started.line}`);
        }
      } catch (err) {
        await Promise.all(controlPlanes.map((c) => c.stop({ graceMs: 5000 })));
        await state.release();
        throw err;
      }
      const [broker, ...standbys] = controlPlanes as [Child, ...Child[]];
      const server = grpc.join(",");
      const workers: Child[] = [];
      const deployment: Deployment = {
        system: variant.name,
        target: { system: "fastworker", server },
        broker,
        standbys,
        ...(store.kind === "postgres" ? { backingPid: store.server.child.pid } : {}),
        workers,
        async startWorkers(count: number): Promise<void> {
          const started = Array.from({ length: count }, () => {
            const n = workers.length + 1;
            const program = shape === undefined
              ? [repoPath("dist/cli/fw-worker.js"), "--tasks", repoPath(TASK_MODULE), "--log-level", "warn"]
              : [repoPath(SHAPED_WORKERS), "--instances", String(shape.connectionsPerProcess), "--names", String(shape.names)];
            const child = Child.start({
              name: `fw-worker-${n}`,
              command: process.execPath,
              args: [
                ...profileFlags(options.profileDir, "fw-worker"),
                ...program,
                "--server", server,
                "--concurrency", String(options.concurrency),
                "--name", `bench-worker-${n}`,
              ],
              cwd: repoPath(""),
              env: fwEnv(),
            });
            workers.push(child);
            return child;
          });
          const ready = shape === undefined ? /^fw-worker ready / : /^fastworker-workers ready /;
          await allReady(started, (child) => child.waitForLine(ready, READY_TIMEOUT_MS));
        },
        async stop(): Promise<void> {
          await Promise.all(workers.map((w) => w.stop({ graceMs: 15_000 })));
          // Standbys first, so none takes over from a leader that is stopping.
          for (const c of [...controlPlanes].reverse()) await c.stop({ graceMs: 15_000 });
          await state.release();
        },
      };
      return withWorkers(deployment, options.workers);
    },
  };
}
