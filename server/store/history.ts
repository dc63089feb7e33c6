import type { TaskRecord } from "./task-record.js";

/**
 * An entry of the history: a task's record; for a queued task the cold
 * tier keeps on disk only (see ColdTier), just its creation order (a small
 * integer, stored in the array itself: 8 bytes, no object); for an evicted
 * task, ~order (negative) until the next compaction.
 */
export type HistoryEntry = TaskRecord | number;

/** How the history reads the records of cold tasks (queued tasks on disk only: see ColdTier). */
export interface ColdReader {
  /**
   * The cold tasks on disk only with creation orders in [lo, hi], by order:
   * decoded, not kept in memory.
   */
  span(lo: number, hi: number): ReadonlyMap<number, TaskRecord>;
}

/** What {@link History.walk} yields between chunks: the caller may let the event loop run (see {@link nextTurn}). */
export const PAUSE = Symbol("pause");

/** Lets the event loop run (timers, I/O) before going on: between the chunks of a long walk. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Entries a walk's chunk holds at most (its first is smaller). */
const CHUNK = 4096;
/** Cold records a walk's chunk reads at most. */
const CHUNK_COLD = 1024;
/** A walk pauses after this much work: an entry in memory counts 1, a record read from disk 16 (~1 µs and ~5–8 µs). */
const WALK_WORK = 16_384;

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
  /** The highest creation order here (a forward walk stops there). */
  private maxOrder = -1;
  private evicted = 0;

  constructor(private readonly cold: ColdReader = { span: () => new Map() }) {}

  /** Adds a new task (the newest). */
  push(task: TaskRecord): void {
    this.tasks.push(task);
    if (task.order > this.maxOrder) this.maxOrder = task.order;
  }

  /**
   * Adds recovered tasks in any order, and the creation orders of the cold
   * tier's tasks in increasing order (at start, before anything new).
   */
  load(tasks: TaskRecord[], coldOrders: Float64Array = new Float64Array(0)): void {
    tasks.sort((a, b) => a.order - b.order);
    this.maxOrder = Math.max(tasks.length === 0 ? -1 : tasks[tasks.length - 1]!.order, coldOrders.length === 0 ? -1 : coldOrders[coldOrders.length - 1]!);
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
   * The tasks from index `from` stepping by `step` (-1: towards older
   * tasks), in chunks: a cold task's record is read from disk with its
   * chunk's (one range read per lane for the chunk's span of orders, unless
   * `cold` is false: the caller knows none of them can match, e.g. a filter
   * on states other than QUEUED, and they are skipped unread). Between
   * chunks, once a chunk's worth of work is done (about {@link WALK_WORK}:
   * 1,024 cold reads, or 16,384 tasks in memory), it yields {@link PAUSE}:
   * the caller may let the event loop run there. A walk resumes by creation
   * order (the list may have been compacted meanwhile) and never reaches
   * tasks created after it started, so each task is visited once, as it is
   * at that moment. A record read from disk is not kept: the caller keeps
   * what it needs in the same turn (`ColdReader.pin`).
   */
  *walk(from: number, step: 1 | -1, cold = true): Generator<TaskRecord | typeof PAUSE, void, undefined> {
    if (from < 0 || from >= this.tasks.length) return;
    // Forward walks stop at the newest task of the start; backward ones end at the oldest anyway.
    const stop = this.maxOrder;
    let i = from;
    let size = 64; // the first chunk is small: a page of 50 reads few records
    let work = 0;
    for (;;) {
      const history = this.tasks;
      // The next chunk: up to `size` entries, at most CHUNK_COLD of them on disk.
      let lo = Number.POSITIVE_INFINITY;
      let hi = -1;
      let end = i;
      let onDisk = 0;
      for (let n = 0; end >= 0 && end < history.length && n < size && onDisk < CHUNK_COLD; end += step, n++) {
        const entry = history[end]!;
        if (step === 1 && orderOf(entry) > stop) break;
        if (cold && typeof entry === "number" && entry >= 0) {
          onDisk++;
          if (entry < lo) lo = entry;
          if (entry > hi) hi = entry;
        }
      }
      if (end === i) return;
      const read = onDisk > 0 ? this.cold.span(lo, hi) : undefined;
      let last = 0;
      for (let j = i; j !== end; j += step) {
        const entry = history[j]!;
        last = orderOf(entry);
        if (typeof entry !== "number") yield entry;
        else if (read !== undefined && entry >= 0) {
          const task = read.get(entry);
          if (task !== undefined) yield task;
        }
      }
      work += Math.abs(end - i) + 15 * onDisk;
      size = Math.min(size * 4, CHUNK);
      if (work >= WALK_WORK) {
        work = 0;
        yield PAUSE;
      }
      // Where to go on: the next entry, or, if the list was compacted meanwhile, after (before) the last order visited.
      i = this.tasks === history ? end : step === 1 ? this.indexAfter(last) : this.indexBefore(last);
    }
  }

  /**
   * Up to `limit` tasks `listed` accepts, from index `from` stepping by
   * `step` (see {@link walk}); `more` says whether another one follows.
   * Costs the accepted tasks plus the ones skipped on the way, letting the
   * event loop run between chunks.
   */
  async scan(listed: (task: TaskRecord) => boolean, from: number, step: 1 | -1, limit: number, cold = true): Promise<{ tasks: TaskRecord[]; more: boolean }> {
    const tasks: TaskRecord[] = [];
    for (const task of this.walk(from, step, cold)) {
      if (task === PAUSE) {
        await nextTurn();
        continue;
      }
      if (!listed(task)) continue;
      if (tasks.length === limit) return { tasks, more: true };
      tasks.push(task);
    }
    return { tasks, more: false };
  }

  /** How many tasks `listed` accepts (a full walk, with the event loop let run between chunks: used when counters cannot tell). */
  async count(listed: (task: TaskRecord) => boolean, cold = true): Promise<number> {
    let total = 0;
    for (const task of this.walk(0, 1, cold)) {
      if (task === PAUSE) await nextTurn();
      else if (listed(task)) total++;
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
