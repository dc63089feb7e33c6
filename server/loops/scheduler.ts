import type { TaskStore } from "../store/task-store.js";
import type { TaskRecord } from "../store/task-record.js";

import { DueTimer } from "./due-timer.js";

/**
 * Turns SCHEDULED tasks (delayed submissions, retries waiting out their
 * backoff) into QUEUED when their time comes. The store keeps them in
 * due-time order (TaskStore.takeDue), and a task that leaves SCHEDULED
 * meanwhile (cancelled) leaves that order at once; this loop holds one
 * timer, set for the earliest due time.
 */
export class Scheduler {
  private readonly timer = new DueTimer(() => {
    this.runOnce(Date.now());
    this.arm(Date.now());
  });
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
    this.timer.clear();
  }

  /** A task became SCHEDULED (the store holds it): the timer moves earlier when it is due sooner. */
  add(task: TaskRecord, now: number): void {
    if (task.scheduledFor < this.timer.at) this.arm(now);
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
    if (this.running) this.timer.set(this.store.nextDueAt(), now);
  }
}
