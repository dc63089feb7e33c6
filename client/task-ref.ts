/**
 * A typed handle on a task, for submitting by name with its args and result
 * types checked at compile time, without importing the worker's code:
 *
 * ```ts
 * import type { add } from "./tasks.js";        // type-only: no worker code loaded
 * const addTask = taskRef<typeof add>("add");
 * const sum = await client.run(addTask, { a: 1, b: 2 }); // sum: number
 * ```
 */
export interface TaskRef<A = unknown, R = unknown> {
  readonly name: string;
  /** Type-only marker; never set at run time. */
  readonly __types?: { args: A; result: R };
}

/** The args type of a task definition or handle. */
export type ArgsOf<T> = T extends { readonly __types?: { args: infer A; result: unknown } } ? A : unknown;
/** The result type of a task definition or handle. */
export type ResultOf<T> = T extends { readonly __types?: { args: unknown; result: infer R } } ? R : unknown;

/** A typed handle from a task definition's type: `taskRef<typeof add>("add")`. */
export function taskRef<T extends { readonly __types?: { args: unknown; result: unknown } }>(name: string): TaskRef<ArgsOf<T>, ResultOf<T>>;
/** A typed handle from explicit types: `taskRef<{ a: number; b: number }, number>("add")`. */
export function taskRef<A, R>(name: string): TaskRef<A, R>;
export function taskRef(name: string): TaskRef {
  return Object.freeze({ name });
}
