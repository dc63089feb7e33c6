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
  close(): Promise<void>;
}

/** The name of the trivial task both systems run. */
export const TASK_NAME = "noop";
