import type { TaskRecord } from "../store/task-record.js";

/** Something waiting for tasks to finish: a session stream, a WaitTask call. */
export interface TaskWaiter {
  taskFinished(task: TaskRecord): void;
}

/**
 * Who waits for which task to reach a final state. A waiter is an object
 * (often one per stream, waiting for many tasks), so following a task costs
 * one map entry, not a closure. Each waiter is told once, when its task
 * finishes, and is then forgotten for that task.
 */
export class Waiters {
  private readonly byId = new Map<string, TaskWaiter | TaskWaiter[]>();

  add(id: string, waiter: TaskWaiter): void {
    const existing = this.byId.get(id);
    if (existing === undefined) this.byId.set(id, waiter);
    else if (Array.isArray(existing)) existing.push(waiter);
    else this.byId.set(id, [existing, waiter]);
  }

  remove(id: string, waiter: TaskWaiter): void {
    const existing = this.byId.get(id);
    if (existing === waiter) this.byId.delete(id);
    else if (Array.isArray(existing)) {
      const index = existing.indexOf(waiter);
      if (index >= 0) existing.splice(index, 1);
      if (existing.length === 0) this.byId.delete(id);
    }
  }

  /** Tells and forgets the waiters of a task that just finished. */
  notify(task: TaskRecord): void {
    const waiters = this.byId.get(task.id);
    if (waiters === undefined) return;
    this.byId.delete(task.id);
    if (Array.isArray(waiters)) for (const waiter of waiters) waiter.taskFinished(task);
    else waiters.taskFinished(task);
  }

  get size(): number {
    return this.byId.size;
  }
}
