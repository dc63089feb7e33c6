import { Code, ConnectError } from "@connectrpc/connect";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskFilter } from "../store/store.js";
import type { TaskRecord } from "../store/task-record.js";
import type { ControlPlane } from "./control-plane.js";

/** The most tasks one bulk call acts on (each is a change to write): narrow the filter past it. */
export const MAX_BULK_TASKS = 100_000;
/** The most ids one bulk call may list (row checkboxes). */
export const MAX_BULK_IDS = 1000;

/** Which tasks a bulk action applies to, validated. */
export interface BulkSelectionInput {
  /** Every kept task it matches (when no ids are given). */
  filter: TaskFilter;
  /** Or exactly these. */
  ids: readonly string[];
  dryRun: boolean;
  /** The count a dry run answered (required when not a dry run). */
  expectedCount: number;
}

/** What a bulk action came to. */
export interface BulkOutcome {
  matched: number;
  done: number;
  skipped: number;
}

const CANCELLABLE: readonly TaskState[] = [TaskState.QUEUED, TaskState.SCHEDULED, TaskState.RUNNING];
const RETRYABLE: readonly TaskState[] = [TaskState.FAILED, TaskState.CANCELLED];

/**
 * Cancels every waiting or running task a selection holds, after checking
 * the count the caller confirmed (see {@link select}).
 */
export async function cancelMany(plane: ControlPlane, selection: BulkSelectionInput, reason: string, now: number): Promise<BulkOutcome> {
  const { tasks, skipped } = await select(plane, selection, CANCELLABLE, "cancel", now);
  if (selection.dryRun) return { matched: tasks.length, done: 0, skipped };
  for (const task of tasks) plane.cancel(task.id, reason || "cancelled with many others", now);
  return { matched: tasks.length, done: tasks.length, skipped };
}

/**
 * Runs every failed or cancelled task a selection holds again, each as a
 * fresh series; all or none pass admission control (--max-queued).
 */
export async function retryMany(plane: ControlPlane, selection: BulkSelectionInput, now: number): Promise<BulkOutcome> {
  const { tasks, skipped } = await select(plane, selection, RETRYABLE, "retry", now);
  if (selection.dryRun) return { matched: tasks.length, done: 0, skipped };
  let bytes = 0;
  for (const task of tasks) bytes += task.argsBytes;
  plane.admission.admitMany(tasks.length, bytes);
  for (const task of tasks) plane.retry(task.id, now);
  return { matched: tasks.length, done: tasks.length, skipped };
}

/**
 * The tasks a selection holds that are in one of `states` (the action's),
 * oldest first. Not a dry run: the count must equal `expectedCount` (what
 * the caller saw and confirmed), else FAILED_PRECONDITION and nothing done.
 * A filter walks every task, letting the event loop run between chunks
 * (see TaskStore.matching): the answer holds the tasks that match at its
 * end, and the caller acts on them in that same turn.
 */
async function select(plane: ControlPlane, selection: BulkSelectionInput, states: readonly TaskState[], verb: string, now: number): Promise<{ tasks: TaskRecord[]; skipped: number }> {
  if (!selection.dryRun && selection.expectedCount <= 0) {
    throw new ConnectError(`to ${verb} many tasks, ask with dry_run first and confirm with the count it answers as expected_count`, Code.InvalidArgument);
  }
  let tasks: TaskRecord[];
  let skipped = 0;
  if (selection.ids.length > 0) {
    if (selection.ids.length > MAX_BULK_IDS) throw new ConnectError(`${selection.ids.length} ids; at most ${MAX_BULK_IDS} per call`, Code.InvalidArgument);
    tasks = [];
    for (const id of new Set(selection.ids)) {
      const task = plane.store.get(id, now);
      if (task !== undefined && states.includes(task.state)) tasks.push(task);
      else skipped++;
    }
  } else {
    const wanted = selection.filter.states?.length ? selection.filter.states.filter((s) => states.includes(s)) : states;
    const found = wanted.length === 0 ? { tasks: [], more: false } : await plane.store.matching({ ...selection.filter, states: wanted }, now, MAX_BULK_TASKS);
    if (found.more) {
      throw new ConnectError(`more than ${MAX_BULK_TASKS} tasks match; one call acts on at most ${MAX_BULK_TASKS}: narrow the filter (by name, time or state)`, Code.FailedPrecondition);
    }
    tasks = found.tasks;
  }
  if (!selection.dryRun && tasks.length !== selection.expectedCount) {
    throw new ConnectError(
      `${tasks.length} tasks match now, not the ${selection.expectedCount} confirmed (tasks moved on meanwhile); nothing was done: count again with a dry run`,
      Code.FailedPrecondition,
    );
  }
  return { tasks, skipped };
}
