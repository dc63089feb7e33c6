// The task names of the scaling sweeps, shared by the producer (which spreads
// tasks over them) and the worker processes (which serve every one of them).
// Plain .mjs so the workers need no TypeScript loader; types in task-names.d.mts.

/** The one name of every other benchmark (noop-tasks.mjs, bullmq-worker.mjs). */
export const BASE_TASK_NAME = "noop";

/** `count` distinct task names: "noop" alone for 1, else "noop-0" … "noop-<count-1>". */
export function taskNames(count) {
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`a task name count must be a whole number ≥ 1 (got ${count})`);
  return count === 1 ? [BASE_TASK_NAME] : Array.from({ length: count }, (_, i) => `${BASE_TASK_NAME}-${i}`);
}
