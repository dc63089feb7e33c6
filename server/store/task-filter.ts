import type { TaskFilter } from "./store.js";
import type { TaskRecord } from "./task-record.js";

/**
 * A case-insensitive "contains" test for listings: a RegExp made once per
 * listing, so 100,000 tasks are matched without lower-casing each one.
 */
export function containsText(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
}

/** Whether a task matches a filter (its retention is checked by the caller). Cheap tests first. */
export function matchesFilter(task: TaskRecord, filter: TaskFilter): boolean {
  if (filter.states !== undefined && filter.states.length > 0 && !filter.states.includes(task.state)) return false;
  if (filter.name && task.name !== filter.name) return false;
  if (filter.priority && task.priority !== filter.priority) return false;
  if (filter.idPrefix && !task.id.startsWith(filter.idPrefix)) return false;
  if (filter.createdAfter !== undefined && task.createdAt < filter.createdAfter) return false;
  if (filter.createdBefore !== undefined && task.createdAt >= filter.createdBefore) return false;
  if (filter.nameContains !== undefined && !filter.nameContains.test(task.name)) return false;
  if (filter.worker && !ranOn(task, filter.worker)) return false;
  if (filter.text !== undefined && !mentions(task, filter.text)) return false;
  return true;
}

/** True when some attempt of the task went to this worker (by id or name). */
function ranOn(task: TaskRecord, worker: string): boolean {
  for (const a of task.attempts ?? []) if (a.workerId === worker || a.workerName === worker) return true;
  return false;
}

/** True when the args or an error message contain the text. */
function mentions(task: TaskRecord, text: RegExp): boolean {
  if (text.test(task.argsJson)) return true;
  if (task.error !== undefined && text.test(task.error.message)) return true;
  for (const a of task.attempts ?? []) if (a.error !== undefined && text.test(a.error.message)) return true;
  return false;
}

/**
 * True when the filter tests nothing but what a task's lane says (state,
 * name, priority): every task of a lane the filter accepts matches, so a
 * listing can count and page the cold tier's lanes without reading them.
 */
export function testsLanesOnly(filter: TaskFilter): boolean {
  return !filter.idPrefix && !filter.text && !filter.worker && filter.createdAfter === undefined && filter.createdBefore === undefined;
}

/**
 * True when the filter has fields the counters (tasks per state, and per
 * name and state) cannot answer a total for.
 */
export function needsScan(filter: TaskFilter): boolean {
  return Boolean(filter.priority || filter.nameContains) || !testsLanesOnly(filter);
}
