import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { WatchTasksResponseSchema, type WatchTasksResponse } from "../../gen/fastworker/v1/admin_service_pb.js";
import { TaskState, type Task } from "../../gen/fastworker/v1/task_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import type { Logger } from "../../common/logger.js";
import type { ControlPlaneEvents } from "../engine/events.js";
import type { Loop } from "../loops/interval-loop.js";
import type { TaskRecord } from "../store/task-record.js";

/** Options for {@link TaskFeed}. */
export interface TaskFeedOptions {
  events: ControlPlaneEvents;
  /** The message for a changed task (the BASIC view). */
  describe: (task: TaskRecord, now: number) => Task;
  logger: Logger;
  /** How long changes are gathered before they are sent (default 250 ms). */
  intervalMs?: number;
  /** The most tasks in one message; the rest are counted as omitted (default 500). */
  maxBatch?: number;
  /** Messages a watcher may leave unread before its changes are only counted (default 8). */
  maxBacklog?: number;
  /** A watcher whose backlog stays full this long (it stopped reading) is ended with RESOURCE_EXHAUSTED (default 60 s). */
  maxStalledMs?: number;
  /** How often a running task's progress is sent at most (default 1000 ms). */
  progressIntervalMs?: number;
  /** The most progress-only changes in one message; the rest wait for their task's next report (default 200). */
  maxProgress?: number;
}

/** One open WatchTasks stream. */
interface Watcher {
  queue: AsyncQueue<WatchTasksResponse>;
  /** Changes this watcher missed while it read too slowly, still to report. */
  omitted: number;
  /** When its backlog was found full, with no read since (0: not full). */
  fullSince: number;
}

const EVENTS = ["task.submitted", "task.queued", "task.dispatched", "task.retrying", "task.retried", "task.finished"] as const;

/**
 * The live task stream behind WatchTasks. Costs nothing while nobody
 * watches: it subscribes to the control plane's events only while at least
 * one stream is open. Then each event adds the task to a set (O(1) on the
 * dispatch path); every interval the set becomes one message, each task once
 * with its latest state, newest first, shared by all watchers. A burst
 * larger than maxBatch, or a watcher that reads too slowly, gets a count of
 * what it missed instead, so memory and work stay bounded however busy the
 * control plane is.
 *
 * Progress reports are not state changes: they are gathered apart and sent
 * at most once per progressIntervalMs, at most maxProgress at a time. What
 * does not fit is dropped, not counted as omitted (a listing's rows do not
 * change with progress, so there is nothing to re-list; the next report
 * brings the task again).
 */
export class TaskFeed implements Loop {
  private readonly watchers = new Set<Watcher>();
  private changed = new Set<TaskRecord>();
  private progressed = new Set<TaskRecord>();
  private progressSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBacklog: number;
  private readonly maxStalledMs: number;
  private readonly progressIntervalMs: number;
  private readonly maxProgress: number;
  private readonly noteProgress = (task: TaskRecord): void => {
    this.progressed.add(task);
  };
  private readonly note = (task: TaskRecord): void => {
    this.changed.add(task);
  };
  private readonly noteLost = (attempt: { task: TaskRecord }): void => {
    this.changed.add(attempt.task);
  };

  constructor(private readonly options: TaskFeedOptions) {
    this.intervalMs = options.intervalMs ?? 250;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBacklog = options.maxBacklog ?? 8;
    this.maxStalledMs = options.maxStalledMs ?? 60_000;
    this.progressIntervalMs = options.progressIntervalMs ?? 1000;
    this.maxProgress = options.maxProgress ?? 200;
  }

  /** Allows watchers; a stopped feed refuses them. */
  start(): void {
    this.running = true;
  }

  /** Ends every open stream and stops listening. */
  stop(): void {
    this.running = false;
    for (const watcher of this.watchers) watcher.queue.close();
    this.watchers.clear();
    this.update();
  }

  /** How many streams are open. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Opens a stream: an empty first message at once, then the changes. The
   * stream ends when `signal` aborts or the feed stops.
   */
  watch(signal: AbortSignal): AsyncQueue<WatchTasksResponse> {
    const queue = new AsyncQueue<WatchTasksResponse>();
    if (!this.running || signal.aborted) {
      queue.close();
      return queue;
    }
    const watcher: Watcher = { queue, omitted: 0, fullSince: 0 };
    queue.push(create(WatchTasksResponseSchema, {}));
    this.watchers.add(watcher);
    signal.addEventListener("abort", () => {
      queue.close();
      this.watchers.delete(watcher);
      this.update();
    }, { once: true });
    this.update();
    return queue;
  }

  /** Sends what changed since the previous call to every watcher. */
  runOnce(now: number): void {
    const progressed = this.takeProgress(now);
    if (this.changed.size === 0 && progressed.length === 0 && !this.hasOmissions()) return;
    const changed = [...this.changed];
    this.changed = new Set();
    // Newest first: the tasks a listing shows on its first page.
    changed.sort((a, b) => b.order - a.order);
    const shown = changed.length > this.maxBatch ? changed.slice(0, this.maxBatch) : changed;
    const tasks = shown.concat(progressed).map((task) => this.options.describe(task, now));
    const omitted = changed.length - shown.length;
    for (const watcher of this.watchers) {
      if (watcher.queue.size >= this.maxBacklog) {
        watcher.omitted += changed.length;
        this.checkStalled(watcher, now);
        continue;
      }
      watcher.fullSince = 0;
      watcher.queue.push(create(WatchTasksResponseSchema, { tasks, omitted: omitted + watcher.omitted }));
      watcher.omitted = 0;
    }
  }

  /** Ends a watcher that has not read anything for maxStalledMs: its stream holds its backlog for nobody. */
  private checkStalled(watcher: Watcher, now: number): void {
    if (watcher.fullSince === 0) {
      watcher.fullSince = now;
      return;
    }
    if (now - watcher.fullSince < this.maxStalledMs) return;
    watcher.queue.fail(new ConnectError(
      `this WatchTasks stream read nothing for ${Math.round((now - watcher.fullSince) / 1000)}s while ${this.maxBacklog} messages waited, so the control plane ended it; watch again to resume (the dashboard does)`,
      Code.ResourceExhausted,
    ));
    this.watchers.delete(watcher);
    this.update();
  }

  /** Running tasks whose progress changed, once per progress interval, leaving out those sent as changes anyway. */
  private takeProgress(now: number): TaskRecord[] {
    if (this.progressed.size === 0 || now - this.progressSentAt < this.progressIntervalMs) return [];
    const out: TaskRecord[] = [];
    for (const task of this.progressed) {
      if (out.length === this.maxProgress) break;
      if (task.state === TaskState.RUNNING && !this.changed.has(task)) out.push(task);
    }
    this.progressed = new Set();
    this.progressSentAt = now;
    return out;
  }

  private hasOmissions(): boolean {
    for (const watcher of this.watchers) if (watcher.omitted > 0 && watcher.queue.size < this.maxBacklog) return true;
    return false;
  }

  /** Listens and ticks only while someone watches. */
  private update(): void {
    const events = this.options.events;
    if (this.watchers.size > 0 && this.timer === undefined) {
      for (const name of EVENTS) events.on(name, this.note);
      events.on("attempt.lost", this.noteLost);
      events.on("task.progress", this.noteProgress);
      this.timer = setInterval(() => {
        try {
          this.runOnce(Date.now());
        } catch (err) {
          this.options.logger.error({ err }, "task feed failed");
        }
      }, this.intervalMs);
      this.timer.unref();
    } else if (this.watchers.size === 0 && this.timer !== undefined) {
      for (const name of EVENTS) events.off(name, this.note);
      events.off("attempt.lost", this.noteLost);
      events.off("task.progress", this.noteProgress);
      clearInterval(this.timer);
      this.timer = undefined;
      this.changed.clear();
      this.progressed.clear();
    }
  }
}
