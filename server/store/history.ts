import type { TaskRecord } from "./task-record.js";

/**
 * An entry of the history: a task's record; for a queued task the cold
 * tier keeps on disk only (see ColdTier), just its creation order (a small
 * integer, stored in the array itself: 8 bytes, no object); for an evicted
 * task, ~order (negative) until the next compaction.
 */
export type HistoryEntry = TaskRecord | number;

/** Reads a cold task's record from disk by creation order; `pin` keeps it in memory from then on. */
export type ColdRecords = (order: number, pin: boolean) => TaskRecord | undefined;

/**
 * Every retained task in creation order, for listings by creation (newest
 * or oldest first). Page cursors are creation orders, so pages stay put
 * while new tasks arrive. Evicted tasks are skipped and compacted away once
 * they are half of the list; until then an evicted task's entry is a
 * number, not its record (a drained backlog of millions of cold entries
 * would otherwise hold millions of evicted records until it compacts). A
 * task in the cold tier is here by its order only; a listing that reaches
 * it reads its record from disk.
 */
export class History {
  private tasks: HistoryEntry[] = [];
  private evicted = 0;

  constructor(private readonly cold: ColdRecords = () => undefined) {}

  /** Adds a new task (the newest). */
  push(task: TaskRecord): void {
    this.tasks.push(task);
  }

  /**
   * Adds recovered tasks in any order, and the creation orders of the cold
   * tier's tasks in increasing order (at start, before anything new).
   */
  load(tasks: TaskRecord[], coldOrders: Float64Array = new Float64Array(0)): void {
    tasks.sort((a, b) => a.order - b.order);
    if (coldOrders.length === 0) {
      this.tasks = tasks;
      return;
    }
    const merged: HistoryEntry[] = new Array<HistoryEntry>(tasks.length + coldOrders.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k++) {
      merged[k] = j >= coldOrders.length || (i < tasks.length && tasks[i]!.order < coldOrders[j]!) ? tasks[i++]! : coldOrders[j++]! | 0; // | 0: a small integer in the array itself, not a boxed number
    }
    this.tasks = merged;
  }

  /** Lets go of an evicted task's record (its order stays, negated); compacts when evicted entries dominate. */
  evict(task: TaskRecord): void {
    const i = this.indexOf(task.order);
    if (i >= 0 && this.tasks[i] === task) this.tasks[i] = ~task.order;
    if (++this.evicted > 1024 && this.evicted * 2 > this.tasks.length) {
      this.tasks = this.tasks.filter((t) => (typeof t === "number" ? t >= 0 : !t.evicted));
      this.evicted = 0;
    }
  }

  /**
   * The entry of the task created `order`-th (a negative number: evicted),
   * or undefined. Orders are distinct integers in increasing
   * order, so the task is at most as many places from the end as orders
   * were handed out after it, and at least as many as are still here:
   * without compaction (nothing evicted yet, e.g. a backlog) the first guess
   * is the place; otherwise a binary search between the two bounds.
   */
  byOrder(order: number): HistoryEntry | undefined {
    const i = this.indexOf(order);
    return i < 0 ? undefined : this.tasks[i];
  }

  /** Puts a record in a task's place (a cold task read into memory), or its order (a cold task let go). */
  replace(order: number, entry: HistoryEntry): void {
    const i = this.indexOf(order);
    if (i >= 0) this.tasks[i] = entry;
  }

  /** Entries, evicted ones included (an index bound for {@link scan}). */
  get length(): number {
    return this.tasks.length;
  }

  /**
   * Up to `limit` tasks `listed` accepts, from index `from` stepping by
   * `step` (-1: towards older tasks); `more` says whether another one
   * follows. Costs the accepted tasks plus the ones skipped on the way
   * (a cold one is read from disk, unless `cold` is false: the caller
   * knows none of them can match, e.g. a filter on states other than
   * QUEUED).
   */
  scan(listed: (task: TaskRecord) => boolean, from: number, step: 1 | -1, limit: number, cold = true): { tasks: TaskRecord[]; more: boolean } {
    const history = this.tasks;
    const tasks: TaskRecord[] = [];
    for (let i = from; i >= 0 && i < history.length; i += step) {
      const entry = history[i]!;
      if (!cold && typeof entry === "number") continue;
      const task = this.read(entry, false);
      if (task === undefined || !listed(task)) continue;
      if (tasks.length === limit) return { tasks, more: true };
      tasks.push(task);
    }
    return { tasks, more: false };
  }

  /**
   * Every task `listed` accepts, oldest first (a full scan; cold tasks are
   * read from disk, and kept in memory from then on with `pin`: the caller
   * is about to change them).
   */
  all(listed: (task: TaskRecord) => boolean, pin = false, cold = true): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const entry of this.tasks) {
      if (!cold && typeof entry === "number") continue;
      const task = this.read(entry, false);
      if (task === undefined || !listed(task)) continue;
      // Pinned only once it matched: a scan must not keep every cold task it reads.
      out.push(pin && typeof entry === "number" ? (this.cold(entry, true) ?? task) : task);
    }
    return out;
  }

  /** How many tasks `listed` accepts (a full scan: used when counters cannot tell). */
  count(listed: (task: TaskRecord) => boolean, cold = true): number {
    let total = 0;
    for (const entry of this.tasks) {
      if (!cold && typeof entry === "number") continue;
      const task = this.read(entry, false);
      if (task !== undefined && listed(task)) total++;
    }
    return total;
  }

  /** The index of the newest task created before `order` (-1: none). */
  indexBefore(order: number): number {
    let lo = 0;
    let hi = this.tasks.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (orderOf(this.tasks[mid]!) < order) {
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

  private read(entry: HistoryEntry, pin: boolean): TaskRecord | undefined {
    if (typeof entry !== "number") return entry;
    return entry >= 0 ? this.cold(entry, pin) : undefined;
  }

  private indexOf(order: number): number {
    const tasks = this.tasks;
    const last = tasks.length - 1;
    if (last < 0) return -1;
    let lo = Math.max(0, last - (orderOf(tasks[last]!) - order));
    let hi = Math.min(last, order - orderOf(tasks[0]!));
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = orderOf(tasks[mid]!);
      if (at === order) return mid;
      if (at < order) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

function orderOf(entry: HistoryEntry): number {
  return typeof entry !== "number" ? entry.order : entry >= 0 ? entry : ~entry;
}
