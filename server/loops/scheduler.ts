import type { TaskStore } from "../store/task-store.js";
import type { TaskRecord } from "../store/task-record.js";

/** The longest delay setTimeout supports. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Turns SCHEDULED tasks (delayed submissions, retries waiting out their
 * backoff) into QUEUED when their time comes. The store keeps them in
 * due-time order (TaskStore.takeDue), and a task that leaves SCHEDULED
 * meanwhile (cancelled) leaves that order at once; this loop holds one
 * timer, set for the earliest due time.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;

  /** @param onDue receives each task whose time has come, still SCHEDULED. */
  constructor(
    private readonly store: TaskStore,
    private readonly onDue: (task: TaskRecord) => void,
  ) {}

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

  /** A task became SCHEDULED (the store holds it): the timer moves earlier when it is due sooner. */
  add(task: TaskRecord, now: number): void {
    if (task.scheduledFor < this.timerAt) this.arm(now);
  }

  /** Hands back every task due by `now`; returns how many. */
  runOnce(now: number): number {
    let due = 0;
    for (let task = this.store.takeDue(now); task !== undefined; task = this.store.takeDue(now)) {
      due++;
      this.onDue(task);
    }
    return due;
  }

  private arm(now: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.store.nextDueAt();
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
