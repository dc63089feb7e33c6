import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { Scheduler } from "../loops/scheduler.js";
import type { FinalState, TaskStore } from "../store/task-store.js";
import type { AttemptRecord, TaskErrorData, TaskRecord } from "../store/task-record.js";
import type { Definitions } from "./definitions.js";
import type { Dispatcher } from "./dispatcher.js";
import type { FlowLimits } from "./limits/flow-limits.js";
import type { ControlPlaneEvents } from "./events.js";
import { backoffMs, resolveRetry } from "./retry-policy.js";
import type { StatsCounters } from "./stats.js";
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
  limits: FlowLimits;
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
    this.d.limits.left(task, Date.now());
    this.d.dispatcher.schedule();
  }

  /** SCHEDULED until `at`, then QUEUED at the back. */
  scheduleAt(task: TaskRecord, at: number, now: number): void {
    this.d.store.schedule(task, at);
    this.d.limits.left(task, now);
    this.d.scheduler.add(task, now);
  }

  /**
   * A final state: the store keeps the task for the result TTL; whoever waits
   * for it hears once the final state is durable.
   */
  finish(task: TaskRecord, state: FinalState, now: number, outcome: { resultJson?: string; error?: TaskErrorData } = {}): void {
    this.d.store.finish(task, state, now, outcome);
    this.d.limits.left(task, now); // a flow-limit slot it held is free
    const stats = this.d.stats;
    stats.finished.add(now);
    if (state === TaskState.SUCCEEDED) stats.succeeded++;
    else if (state === TaskState.FAILED) {
      stats.failed++;
      stats.failedRecently.add(now);
    } else stats.cancelled++;
    this.d.store.afterCommit(() => this.d.waiters.notify(task));
    this.d.events.emit("task.finished", task);
  }

  /** An attempt failed: schedule the next one after its backoff, or fail the task. */
  attemptFailed(task: TaskRecord, attempt: AttemptRecord, error: TaskErrorData, now: number): void {
    const failures = this.d.store.countFailure(task);
    const policy = resolveRetry(task.options.retry, this.d.definitions.get(task.name)?.retry);
    if (error.retryable && failures < policy.maxAttempts) {
      this.d.stats.retried++;
      this.scheduleAt(task, now + backoffMs(policy, failures), now);
      this.d.events.emit("task.retrying", task, attempt);
      return;
    }
    this.finish(task, TaskState.FAILED, now, { error });
  }
}
