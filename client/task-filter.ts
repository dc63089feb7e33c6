import { create } from "@bufbuild/protobuf";
import { BulkSelectionSchema, TaskFilterSchema, TaskOrder, type BulkSelection, type TaskFilter } from "../gen/fastworker/v1/task_service_pb.js";
import { priorityFromName, type PriorityName } from "../common/priority.js";
import { taskStateFromName, type TaskStateName } from "../common/task-state.js";
import { timestampFromMs } from "../common/time.js";

/**
 * Which tasks a listing or an action on many tasks means. Every option that
 * is set must match. Browser-safe (the dashboard builds its filters here too).
 */
export interface TaskFilterOptions {
  state?: TaskStateName | readonly TaskStateName[];
  /** Exactly this task name. */
  task?: string;
  /** Task names containing this text, ignoring case. */
  nameContains?: string;
  priority?: PriorityName;
  idPrefix?: string;
  /** Args (as JSON text) or error messages containing this text, ignoring case. */
  text?: string;
  /** Tasks with an attempt on this worker: its id or its name. */
  worker?: string;
  /** Created at or after this time. */
  createdAfter?: Date;
  /** Created before this time. */
  createdBefore?: Date;
}

/**
 * Which tasks an action on many tasks applies to: a filter, or `ids`. A
 * call without `expectedCount` only counts (a dry run); with it, it acts
 * if exactly that many tasks are selected.
 */
export interface BulkOptions extends TaskFilterOptions {
  /** Exactly these tasks (at most 1,000) instead of a filter. */
  ids?: readonly string[];
  /** The count a dry run answered: the action happens only if as many tasks are selected now. */
  expectedCount?: number;
}

/** What an action on many tasks came to. */
export interface BulkResult {
  /** Tasks selected that the action applies to. */
  matched: number;
  /** Tasks acted on (0 for a dry run). */
  done: number;
  /** Ids given that were unknown or in a state the action does not apply to. */
  skipped: number;
  dryRun: boolean;
}

/** The wire form of a bulk selection. */
export function bulkSelectionMessage(options: BulkOptions): BulkSelection {
  const { ids, expectedCount, ...filter } = options;
  const byIds = ids !== undefined && ids.length > 0;
  return create(BulkSelectionSchema, {
    ...(byIds ? { ids: [...ids] } : { filter: taskFilterMessage(filter) }),
    dryRun: expectedCount === undefined,
    expectedCount: BigInt(expectedCount ?? 0),
  });
}

/** The orders a listing can take, as users write them. */
export const TASK_ORDER_NAMES = ["newest", "oldest", "next-to-run"] as const;

/** A listing's order: by creation (newest or oldest first), or the order waiting tasks will run in. */
export type TaskOrderName = (typeof TASK_ORDER_NAMES)[number];

/** The wire form of a filter. */
export function taskFilterMessage(options: TaskFilterOptions): TaskFilter {
  const states = options.state === undefined ? [] : typeof options.state === "string" ? [options.state] : options.state;
  return create(TaskFilterSchema, {
    states: states.map(taskStateFromName),
    name: options.task ?? "",
    nameContains: options.nameContains ?? "",
    priority: options.priority ? priorityFromName(options.priority) : 0,
    idPrefix: options.idPrefix ?? "",
    text: options.text ?? "",
    worker: options.worker ?? "",
    createdAfter: options.createdAfter === undefined ? undefined : timestampFromMs(Math.max(1, +options.createdAfter)),
    createdBefore: options.createdBefore === undefined ? undefined : timestampFromMs(Math.max(1, +options.createdBefore)),
  });
}

/** The wire form of an order name. */
export function taskOrderFromName(name: TaskOrderName | undefined): TaskOrder {
  return name === "oldest" ? TaskOrder.OLDEST_FIRST : name === "next-to-run" ? TaskOrder.NEXT_TO_RUN : TaskOrder.NEWEST_FIRST;
}
