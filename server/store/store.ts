import type { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskRecord } from "../engine/task-record.js";

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

/**
 * The control plane's task state: records, priority queues, idempotency
 * keys and result retention. One narrow interface so a durable store can
 * replace the in-memory one; every implementation must pass
 * `store.suite.ts`.
 *
 * State changes go through {@link setState} so the queues and counters stay
 * consistent; callers never assign `task.state` themselves.
 */
export interface TaskStore {
  /** Adds a new task (its state is already QUEUED or SCHEDULED). */
  insert(task: TaskRecord): void;
  /** A retained task by id; expired results are not returned. */
  get(id: string, now: number): TaskRecord | undefined;
  /** The retained task submitted with this idempotency key. */
  getByKey(key: string, now: number): TaskRecord | undefined;
  /** Moves a task to a state; leaving QUEUED removes it from its queue. */
  setState(task: TaskRecord, state: TaskState): void;
  /** Queues a task at the back of its priority. */
  enqueue(task: TaskRecord): void;
  /** Queues a task again at the place it had (after a lost attempt). */
  requeue(task: TaskRecord): void;
  /**
   * Takes the next task for a worker serving these names: the highest
   * priority first, the oldest within it. The task stays QUEUED; the caller
   * moves it on at once.
   */
  takeNext(names: readonly string[]): TaskRecord | undefined;
  /** Called when a task reaches a final state: keep it for the result TTL. */
  retain(task: TaskRecord): void;
  /** Drops expired results and the oldest beyond the maximum; returns how many. */
  sweep(now: number): number;
  /** Tasks newest first, from a cursor (exclusive). */
  list(filter: TaskFilter, cursor: number | undefined, limit: number, now: number): TaskPage;
  counts(): StateCounts;
}
