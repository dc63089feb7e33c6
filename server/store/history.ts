import type { TaskRecord } from "./task-record.js";

/**
 * Every retained task in creation order, for listings by creation (newest
 * or oldest first). Page cursors are creation orders, so pages stay put
 * while new tasks arrive. Evicted tasks are skipped and compacted away once
 * they are half of the list.
 */
export class History {
  private tasks: TaskRecord[] = [];
  private evicted = 0;

  /** Adds a new task (the newest). */
  push(task: TaskRecord): void {
    this.tasks.push(task);
  }

  /** Adds recovered tasks in any order (at start, before anything new). */
  load(tasks: TaskRecord[]): void {
    this.tasks = tasks.sort((a, b) => a.order - b.order);
  }

  /** Notes that a task was evicted; compacts when evicted entries dominate. */
  evict(): void {
    if (++this.evicted > 1024 && this.evicted * 2 > this.tasks.length) {
      this.tasks = this.tasks.filter((t) => !t.evicted);
      this.evicted = 0;
    }
  }

  /**
   * The task created `order`-th, evicted ones included (the caller checks),
   * or undefined. Orders are distinct integers in increasing order, so the
   * task is at most as many places from the end as orders were handed out
   * after it, and at least as many as are still here: without compaction
   * (nothing evicted yet, e.g. a backlog) the first guess is the place;
   * otherwise a binary search between the two bounds.
   */
  byOrder(order: number): TaskRecord | undefined {
    const tasks = this.tasks;
    const last = tasks.length - 1;
    if (last < 0) return undefined;
    let lo = Math.max(0, last - (tasks[last]!.order - order));
    let hi = Math.min(last, order - tasks[0]!.order);
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = tasks[mid]!.order;
      if (at === order) return tasks[mid];
      if (at < order) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Entries, evicted ones included (an index bound for {@link scan}). */
  get length(): number {
    return this.tasks.length;
  }

  /**
   * Up to `limit` tasks `listed` accepts, from index `from` stepping by
   * `step` (-1: towards older tasks); `more` says whether another one
   * follows. Costs the accepted tasks plus the ones skipped on the way.
   */
  scan(listed: (task: TaskRecord) => boolean, from: number, step: 1 | -1, limit: number): { tasks: TaskRecord[]; more: boolean } {
    const history = this.tasks;
    const tasks: TaskRecord[] = [];
    for (let i = from; i >= 0 && i < history.length; i += step) {
      const task = history[i]!;
      if (!listed(task)) continue;
      if (tasks.length === limit) return { tasks, more: true };
      tasks.push(task);
    }
    return { tasks, more: false };
  }

  /** Every task `listed` accepts, oldest first (a full scan). */
  all(listed: (task: TaskRecord) => boolean): TaskRecord[] {
    return this.tasks.filter(listed);
  }

  /** How many tasks `listed` accepts (a full scan: used when counters cannot tell). */
  count(listed: (task: TaskRecord) => boolean): number {
    let total = 0;
    for (const task of this.tasks) if (listed(task)) total++;
    return total;
  }

  /** The index of the newest task created before `order` (-1: none). */
  indexBefore(order: number): number {
    let lo = 0;
    let hi = this.tasks.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.tasks[mid]!.order < order) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The index of the oldest task created after `order` (length: none). */
  indexAfter(order: number): number {
    const before = this.indexBefore(order + 1);
    return before + 1;
  }
}
