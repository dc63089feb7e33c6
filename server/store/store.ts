import type { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskRecord } from "./task-record.js";

// The shapes of the store's reads. The store itself is TaskStore (task-store.ts).

/** Filters for {@link TaskStore.list} and the actions on many tasks. Unset fields match everything. */
export interface TaskFilter {
  states?: readonly TaskState[];
  name?: string;
  /** Matches task names that contain the text, ignoring case (see `containsText`). */
  nameContains?: RegExp;
  priority?: Priority;
  idPrefix?: string;
  /** Matches the args (JSON text) or any error message (see `containsText`). */
  text?: RegExp;
  /** A worker's id or name: tasks with an attempt on it. */
  worker?: string;
  /** Created at or after (ms since the epoch). */
  createdAfter?: number;
  /** Created before (ms since the epoch). */
  createdBefore?: number;
}

/**
 * The orders a listing can take: by creation (newest or oldest first), or
 * the order waiting tasks will run in (queued by priority then queue
 * position, then scheduled by due time).
 */
export type ListOrder = "newest" | "oldest" | "next";

/**
 * A place in a listing: the tasks after (forward) or before (backward) the
 * task whose sort key is `key`, in the listing's order. Keys are creation
 * orders for "newest" and "oldest", and [group, a, b] for "next".
 */
export interface Cursor {
  order: ListOrder;
  forward: boolean;
  key: readonly number[];
}

/** Which page of a listing to answer. */
export interface PageRequest {
  /** Default "newest". */
  order?: ListOrder;
  /** Where to start; undefined: the first page (or the last, with `last`). */
  cursor?: Cursor;
  /** The last page: as many tasks as the last of the pages of `limit` from the start holds. */
  last?: boolean;
  limit: number;
}

/** One page of a listing, in the listing's order. */
export interface TaskPage {
  tasks: TaskRecord[];
  /** The page after this one; undefined on the last. */
  next: Cursor | undefined;
  /** The page before this one; undefined on the first. */
  previous: Cursor | undefined;
  total: number;
}

/** Counts by state, as the stats and the dashboard show them. */
export interface StateCounts {
  /** Queued tasks per priority, index = Priority value (0 unused). */
  queued: readonly number[];
  scheduled: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}
