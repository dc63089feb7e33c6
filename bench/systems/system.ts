import type { Child } from "../lib/child.js";
import type { SystemName, Target } from "../producer/protocol.js";

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
  /** fastworker only: run the instrumented control plane (latency breakdown) instead of fw-server. */
  instrumented?: boolean;
}

/** A running broker (fw-server or redis-server) and its workers, each a separate OS process. */
export interface Deployment {
  readonly system: SystemName;
  /** What a producer connects to. */
  readonly target: Target;
  /** fw-server, or redis-server for BullMQ. */
  readonly broker: Child;
  readonly workers: readonly Child[];
  /** Starts more workers and waits until each can take tasks. */
  startWorkers(count: number): Promise<void>;
  /** Ends the workers, then the broker (by pid, bounded). */
  stop(): Promise<void>;
}

/** A system under test. */
export interface System {
  readonly name: SystemName;
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
