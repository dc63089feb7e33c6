import type { CompletionCounter } from "./completion-counter.js";

/**
 * One system's producer side, as an application would use it. Every task is
 * the same trivial one: args `{ i }`, result `i`. Outcomes of submitted tasks
 * are counted by `completions` as they reach the producer.
 */
export interface QueueDriver {
  readonly completions: CompletionCounter;
  /** Submits these tasks as one batch; resolves once all were accepted. */
  submitBatch(indices: readonly number[]): Promise<void>;
  /** Submits one task with one call, as an app request handler would; resolves once accepted. */
  submitOne(i: number): Promise<void>;
  /** Submits one task and resolves with its result (the round trip). */
  roundTrip(i: number): Promise<unknown>;
  /** Sessions the driver holds (fastworker: `Client`s, each its own Session stream; BullMQ: `Queue`s); 1 but in the scaling sweeps. */
  readonly sessions: number;
  /**
   * Scaling sweeps: submits these tasks as one batch on one of the sessions
   * (0 ≤ session < sessions), as `submitBatch` does, and answers a promise
   * per task of its result (parsed, as an application would read it).
   */
  callBatch(session: number, tasks: readonly NamedTask[]): Promise<unknown>[];
  close(): Promise<void>;
}

/** A task of the scaling sweeps: a name (of several) and args of a chosen size. */
export interface NamedTask {
  name: string;
  args: unknown;
}

/** The name of the trivial task both systems run. */
export const TASK_NAME = "noop";
