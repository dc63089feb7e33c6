import type { TaskRecord } from "./task-record.js";

type Waiter = (task: TaskRecord) => void;

/**
 * Callbacks waiting for tasks to reach a final state (WaitTask, WaitTasks).
 * Each waiter runs once, when its task finishes, and is then forgotten.
 */
export class Waiters {
  private readonly byId = new Map<string, Waiter | Waiter[]>();

  /** Registers a waiter; the returned function unregisters it. */
  add(id: string, waiter: Waiter): () => void {
    const existing = this.byId.get(id);
    if (existing === undefined) this.byId.set(id, waiter);
    else if (Array.isArray(existing)) existing.push(waiter);
    else this.byId.set(id, [existing, waiter]);
    return () => this.remove(id, waiter);
  }

  /** Runs and forgets the waiters of a task that just finished. */
  notify(task: TaskRecord): void {
    const waiters = this.byId.get(task.id);
    if (waiters === undefined) return;
    this.byId.delete(task.id);
    if (Array.isArray(waiters)) for (const waiter of waiters) waiter(task);
    else waiters(task);
  }

  get size(): number {
    return this.byId.size;
  }

  private remove(id: string, waiter: Waiter): void {
    const existing = this.byId.get(id);
    if (existing === waiter) this.byId.delete(id);
    else if (Array.isArray(existing)) {
      const index = existing.indexOf(waiter);
      if (index >= 0) existing.splice(index, 1);
      if (existing.length === 0) this.byId.delete(id);
    }
  }
}
