import type { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskRecord } from "./task-record.js";

// The shapes of the store's reads. The store itself is TaskStore (task-store.ts).

/** Filters for {@link TaskStore.list}. Unset fields match everything. */
export interface TaskFilter {
  states?: readonly TaskState[];
  name?: string;
  priority?: Priority;
  idPrefix?: string;
}

/** One page of a listing. */
export interface TaskPage {
  tasks: TaskRecord[];
  /** Pass back to get the next page; undefined on the last one. */
  nextCursor: number | undefined;
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
