import type { Child } from "../lib/child.js";
import type { SystemKind, Target } from "../producer/protocol.js";

/**
 * The deployments compared (`--system`), in table order. Each is one of the
 * two kinds (the producer protocol), deployed a particular way; see
 * catalogue.ts for what each one is.
 */
export const SYSTEM_NAMES = ["fastworker", "fastworker-durable", "fastworker-pg", "bullmq", "bullmq-aof"] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** Column headers in the table. */
export const SYSTEM_LABELS: Record<SystemName, string> = {
  fastworker: "fastworker",
  "fastworker-durable": "fw durable",
  "fastworker-pg": "fw PG",
  bullmq: "BullMQ",
  "bullmq-aof": "BullMQ-AOF",
};

/** How to deploy a system for one run. */
export interface DeployOptions {
  /** Worker processes started with the broker (more can be started later). */
  workers: number;
  /** Tasks each worker runs at once. */
  concurrency: number;
  /** Tasks the run submits in all (fastworker: --max-results must hold them). */
  expectedTasks: number;
  /** When set, Node processes of this deployment write CPU profiles (--cpu-prof) here. */
  profileDir?: string;
  /** fastworker in memory only: run the instrumented control plane (latency breakdown) instead of fw-server. */
  instrumented?: boolean;
  /** fastworker-pg only: control planes started after the first on the same database (they stand by). */
  standbys?: number;
  /** Scaling sweeps: several worker connections per process, many task names, echoing handlers (see {@link WorkerShape}). */
  shape?: WorkerShape;
}

/**
 * How the scaling sweeps shape a deployment. With a shape, every worker
 * process runs `connectionsPerProcess` workers (fastworker: `Worker`
 * instances in bench/workers/fastworker-workers.mjs, each its own connection
 * and session; BullMQ: `Worker`s in bench/workers/bullmq-worker.mjs, each its
 * own Redis connections), and their handler answers its args, so a result is
 * as large as its args.
 */
export interface WorkerShape {
  connectionsPerProcess: number;
  /** Task names every worker connection serves (BullMQ: job names on its one queue; a Worker takes them all). */
  names: number;
  /** fastworker: the control plane's --max-payload in bytes (args near the default 1 MiB limit). */
  maxPayloadBytes?: number;
  /** fastworker: the control plane's --max-results, so large results do not pile up (default: from expectedTasks). */
  maxResults?: number;
}

/** A running broker (fw-server or redis-server) and its workers, each a separate OS process. */
export interface Deployment {
  readonly system: SystemName;
  /** What a producer connects to. */
  readonly target: Target;
  /** fw-server (the leader, in a group), or redis-server for BullMQ. */
  readonly broker: Child;
  /** The other control planes of a group, standing by (fastworker-pg with `standbys`); otherwise none. */
  readonly standbys: readonly Child[];
  /** A process tree behind the broker whose CPU counts with it (PostgreSQL's postmaster and its children). */
  readonly backingPid?: number;
  readonly workers: readonly Child[];
  /** Starts more workers and waits until each can take tasks. */
  startWorkers(count: number): Promise<void>;
  /** Ends the workers, then the broker (by pid, bounded). */
  stop(): Promise<void>;
}

/** A system under test: one kind, deployed one way. */
export interface System {
  readonly name: SystemName;
  /** Which producer protocol talks to it. */
  readonly kind: SystemKind;
  /** What is deployed, in one line (recorded in the results file). */
  readonly description: string;
  deploy(options: DeployOptions): Promise<Deployment>;
}

/** Starts a new deployment's first workers; if that fails, tears the deployment down and rethrows. */
export async function withWorkers(deployment: Deployment, count: number): Promise<Deployment> {
  try {
    if (count > 0) await deployment.startWorkers(count);
  } catch (err) {
    await deployment.stop();
    throw err;
  }
  return deployment;
}

/** Node flags that make a process write a CPU profile into `dir/role/` when it exits normally. */
export function profileFlags(dir: string | undefined, role: string): string[] {
  return dir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}/${role}`];
}

/** Waits for `ready` of every child, stopping them all if one fails. */
export async function allReady(children: readonly Child[], ready: (child: Child) => Promise<unknown>): Promise<void> {
  try {
    await Promise.all(children.map(ready));
  } catch (err) {
    await Promise.all(children.map((c) => c.stop({ graceMs: 2000 })));
    throw err;
  }
}
