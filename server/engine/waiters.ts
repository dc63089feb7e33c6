import type { TaskRecord } from "../store/task-record.js";

/** Something waiting for tasks to finish: a session stream, a WaitTask call. */
export interface TaskWaiter {
  taskFinished(task: TaskRecord): void;
  /**
   * True once it listens no more (a closed stream). Its entries are then
   * dropped when next met, so closing never has to look for them.
   */
  readonly done?: boolean;
}

type Waiting = TaskWaiter | TaskWaiter[] | undefined;

/**
 * Who waits for which task to reach a final state. A waiter is an object
 * (often one per stream, waiting for many tasks), kept on the task's record
 * itself (TaskRecord.waiting), so following a task costs no map entry: a
 * million followed tasks cost a field each. Each waiter is told once, when
 * its task finishes, and is then forgotten for that task.
 */
export class Waiters {
  /** Makes `waiter` wait for `task`; false if it already did. */
  add(task: TaskRecord, waiter: TaskWaiter): boolean {
    const existing = task.waiting as Waiting;
    if (existing === undefined || (!Array.isArray(existing) && existing.done === true)) {
      task.waiting = waiter;
      return true;
    }
    if (existing === waiter) return false;
    if (!Array.isArray(existing)) {
      task.waiting = [existing, waiter];
      return true;
    }
    if (existing.includes(waiter)) return false;
    const live = existing.filter((w) => w.done !== true);
    live.push(waiter);
    task.waiting = live.length === 1 ? live[0] : live;
    return true;
  }

  remove(task: TaskRecord, waiter: TaskWaiter): void {
    const existing = task.waiting as Waiting;
    if (existing === waiter) task.waiting = undefined;
    else if (Array.isArray(existing)) {
      const index = existing.indexOf(waiter);
      if (index >= 0) existing.splice(index, 1);
      if (existing.length === 0) task.waiting = undefined;
    }
  }

  /** Tells and forgets the waiters of a task that just finished. */
  notify(task: TaskRecord): void {
    const waiters = task.waiting as Waiting;
    if (waiters === undefined) return;
    task.waiting = undefined;
    if (!Array.isArray(waiters)) {
      if (waiters.done !== true) waiters.taskFinished(task);
      return;
    }
    for (const waiter of waiters) if (waiter.done !== true) waiter.taskFinished(task);
  }
}
