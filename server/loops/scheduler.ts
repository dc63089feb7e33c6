import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { MinHeap } from "../store/min-heap.js";
import type { TaskRecord } from "../store/task-record.js";

/** The longest delay setTimeout supports. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Holds SCHEDULED tasks (delayed submissions, retries waiting out their
 * backoff) and hands each one back when its time comes. One timer, set for
 * the earliest task. A task that leaves SCHEDULED meanwhile (cancelled) is
 * skipped when its time comes.
 */
export class Scheduler {
  private readonly heap = new MinHeap<TaskRecord>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;

  /** @param onDue receives each task whose time has come, still SCHEDULED. */
  constructor(private readonly onDue: (task: TaskRecord) => void) {}

  start(): void {
    this.running = true;
    this.arm(Date.now());
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Tasks waiting (stale entries included). */
  get size(): number {
    return this.heap.length;
  }

  /** Adds a SCHEDULED task; its scheduledFor says when it is due. */
  add(task: TaskRecord, now: number): void {
    this.heap.push(task, task.scheduledFor, task.scheduledFor);
    if (task.scheduledFor < this.timerAt) this.arm(now);
  }

  /** Hands back every task due by `now`; returns how many. */
  runOnce(now: number): number {
    let due = 0;
    while (this.heap.peekKey() <= now) {
      const tag = this.heap.peekTag();
      const task = this.heap.pop()!;
      if (task.state !== TaskState.SCHEDULED || task.scheduledFor !== tag) continue;
      due++;
      this.onDue(task);
    }
    return due;
  }

  private arm(now: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.heap.peekKey();
    this.timerAt = next;
    if (next === Number.POSITIVE_INFINITY) return;
    // setTimeout cannot wait longer than 2^31-1 ms (it would fire at once): wake up then and re-arm.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.runOnce(Date.now());
      this.arm(Date.now());
    }, Math.min(MAX_TIMER_MS, Math.max(0, next - now)));
    this.timer.unref();
  }
}
