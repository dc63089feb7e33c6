import { create } from "@bufbuild/protobuf";
import { WatchTasksResponseSchema, type WatchTasksResponse } from "../../gen/fastworker/v1/admin_service_pb.js";
import type { Task } from "../../gen/fastworker/v1/task_pb.js";
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
}

/** One open WatchTasks stream. */
interface Watcher {
  queue: AsyncQueue<WatchTasksResponse>;
  /** Changes this watcher missed while it read too slowly, still to report. */
  omitted: number;
}

const EVENTS = ["task.submitted", "task.dispatched", "task.retrying", "task.retried", "task.finished"] as const;

/**
 * The live task stream behind WatchTasks. Costs nothing while nobody
 * watches: it subscribes to the control plane's events only while at least
 * one stream is open. Then each event adds the task to a set (O(1) on the
 * dispatch path); every interval the set becomes one message, each task once
 * with its latest state, newest first, shared by all watchers. A burst
 * larger than maxBatch, or a watcher that reads too slowly, gets a count of
 * what it missed instead, so memory and work stay bounded however busy the
 * control plane is.
 */
export class TaskFeed implements Loop {
  private readonly watchers = new Set<Watcher>();
  private changed = new Set<TaskRecord>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBacklog: number;
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
    const watcher: Watcher = { queue, omitted: 0 };
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
    if (this.changed.size === 0 && !this.hasOmissions()) return;
    const changed = [...this.changed];
    this.changed = new Set();
    // Newest first: the tasks a listing shows on its first page.
    changed.sort((a, b) => b.order - a.order);
    const shown = changed.length > this.maxBatch ? changed.slice(0, this.maxBatch) : changed;
    const tasks = shown.map((task) => this.options.describe(task, now));
    const omitted = changed.length - shown.length;
    for (const watcher of this.watchers) {
      if (watcher.queue.size >= this.maxBacklog) {
        watcher.omitted += changed.length;
        continue;
      }
      watcher.queue.push(create(WatchTasksResponseSchema, { tasks, omitted: omitted + watcher.omitted }));
      watcher.omitted = 0;
    }
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
      clearInterval(this.timer);
      this.timer = undefined;
      this.changed.clear();
    }
  }
}
