import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { Definitions } from "./definitions.js";
import type { Dispatcher } from "./dispatcher.js";
import type { ControlPlaneEvents } from "./events.js";
import { backoffMs, resolveRetry } from "./retry-policy.js";
import type { Scheduler } from "../loops/scheduler.js";
import type { StatsCounters } from "./stats.js";
import type { TaskStore } from "../store/store.js";
import type { AttemptRecord, TaskErrorData, TaskRecord } from "./task-record.js";
import type { Waiters } from "./waiters.js";

/** What {@link TaskLifecycle} drives. */
export interface LifecycleDeps {
  store: TaskStore;
  scheduler: Scheduler;
  waiters: Waiters;
  stats: StatsCounters;
  events: ControlPlaneEvents;
  dispatcher: Dispatcher;
  definitions: Definitions;
}

/**
 * The task state transitions that have consequences beyond the store:
 * waking the dispatcher, timing retries, keeping results, telling waiters.
 * Everything that moves a task between states goes through here (or the
 * dispatcher's takeNext), so those consequences cannot be forgotten.
 */
export class TaskLifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  /** QUEUED at the back of its priority. */
  queue(task: TaskRecord): void {
    this.d.store.enqueue(task);
    this.d.dispatcher.schedule();
  }

  /** QUEUED again at the place it had: its attempt was lost or handed back. */
  putBack(task: TaskRecord): void {
    this.d.store.requeue(task);
    this.d.dispatcher.schedule();
  }

  /** SCHEDULED until `at`, then QUEUED at the back. */
  scheduleAt(task: TaskRecord, at: number, now: number): void {
    this.d.store.setState(task, TaskState.SCHEDULED);
    task.scheduledFor = at;
    this.d.scheduler.add(task, now);
  }

  /** A final state: keep the task for the result TTL and wake whoever waits for it. */
  finish(task: TaskRecord, state: TaskState.SUCCEEDED | TaskState.FAILED | TaskState.CANCELLED, now: number): void {
    this.d.store.setState(task, state);
    task.finishedAt = now;
    this.d.store.retain(task);
    const stats = this.d.stats;
    stats.finished.add(now);
    if (state === TaskState.SUCCEEDED) stats.succeeded++;
    else if (state === TaskState.FAILED) {
      stats.failed++;
      stats.failedRecently.add(now);
    } else stats.cancelled++;
    this.d.waiters.notify(task);
    this.d.events.emit("task.finished", task);
  }

  /** An attempt failed: schedule the next one after its backoff, or fail the task. */
  attemptFailed(task: TaskRecord, attempt: AttemptRecord, error: TaskErrorData, now: number): void {
    task.failures++;
    task.losses = 0;
    const policy = resolveRetry(task.options.retry, this.d.definitions.get(task.name)?.retry);
    if (error.retryable && task.failures < policy.maxAttempts) {
      this.d.stats.retried++;
      this.scheduleAt(task, now + backoffMs(policy, task.failures), now);
      this.d.events.emit("task.retrying", task, attempt);
      return;
    }
    task.error = error;
    this.finish(task, TaskState.FAILED, now);
  }
}
