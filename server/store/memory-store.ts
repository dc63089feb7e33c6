import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { isFinalState } from "../../common/task-state.js";
import { TaggedDeque } from "./deque.js";
import { NameQueue } from "./name-queue.js";
import type { StateCounts, TaskFilter, TaskPage, TaskStore } from "./store.js";
import type { TaskRecord } from "../engine/task-record.js";

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How long a final task (its result) is kept. */
  resultTtlMs: number;
  /** The most final tasks kept; the oldest go first. */
  maxResults: number;
}

/**
 * The in-memory TaskStore. Every operation on the dispatch path is O(1) or
 * O(log n) (re-queued tasks); listings scan newest first.
 */
export class MemoryStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly byKey = new Map<string, TaskRecord>();
  private readonly queues = new Map<string, NameQueue>();
  /** Every task in creation order (evicted ones until the next compaction). */
  private history: TaskRecord[] = [];
  private evictedInHistory = 0;
  /** Final tasks in the order they finished, tagged with finishSeq. */
  private readonly retained = new TaggedDeque<TaskRecord>(1024);
  private finishSeq = 0;
  private queueSeq = 0;
  /** Tasks per state, index = TaskState (QUEUED is kept per priority in `queued`). */
  private readonly byState: number[] = new Array<number>(TaskState.CANCELLED + 1).fill(0);
  private readonly queued: number[] = new Array<number>(Priority.LOW + 1).fill(0);

  constructor(private readonly options: MemoryStoreOptions) {}

  insert(task: TaskRecord): void {
    this.tasks.set(task.id, task);
    this.history.push(task);
    const key = task.options.idempotencyKey;
    if (key) this.byKey.set(key, task);
    if (task.state === TaskState.QUEUED) this.pushQueued(task, false);
    else this.byState[task.state]!++;
  }

  get(id: string, now: number): TaskRecord | undefined {
    const task = this.tasks.get(id);
    if (task !== undefined && this.isExpired(task, now)) {
      this.evict(task);
      return undefined;
    }
    return task;
  }

  getByKey(key: string, now: number): TaskRecord | undefined {
    const task = this.byKey.get(key);
    return task === undefined ? undefined : this.get(task.id, now);
  }

  setState(task: TaskRecord, state: TaskState): void {
    const from = task.state;
    if (from === state) return;
    if (state === TaskState.QUEUED) throw new Error("use enqueue() or requeue() to queue a task");
    if (from === TaskState.QUEUED) {
      this.queued[task.priority]!--;
      const queue = this.queues.get(task.name)!;
      queue.live[task.priority]!--;
      // With nothing live left, every entry is stale: drop the queue (and the tasks it still references).
      if (queue.size === 0) this.queues.delete(task.name);
    } else {
      this.byState[from]!--;
    }
    this.byState[state]!++;
    task.state = state;
  }

  enqueue(task: TaskRecord): void {
    this.leaveState(task);
    this.pushQueued(task, false);
  }

  requeue(task: TaskRecord): void {
    this.leaveState(task);
    this.pushQueued(task, true);
  }

  takeNext(names: readonly string[]): TaskRecord | undefined {
    for (let p = Priority.CRITICAL; p <= Priority.LOW; p++) {
      if (this.queued[p] === 0) continue;
      let best: TaskRecord | undefined;
      let bestQueue: NameQueue | undefined;
      for (let i = 0; i < names.length; i++) {
        const queue = this.queues.get(names[i]!);
        if (queue === undefined) continue;
        const head = queue.peek(p);
        if (head !== undefined && (best === undefined || head.queueSeq < best.queueSeq)) {
          best = head;
          bestQueue = queue;
        }
      }
      if (best !== undefined) {
        bestQueue!.take(best);
        this.setState(best, TaskState.RUNNING);
        return best;
      }
    }
    return undefined;
  }

  retain(task: TaskRecord): void {
    task.finishSeq = ++this.finishSeq;
    this.retained.push(task, task.finishSeq);
  }

  sweep(now: number): number {
    let evicted = 0;
    for (;;) {
      const task = this.retained.peek();
      if (task === undefined) break;
      const stale = task.evicted || !isFinalState(task.state) || task.finishSeq !== this.retained.peekTag();
      if (!stale && !this.isExpired(task, now) && this.retainedCount() <= this.options.maxResults) break;
      this.retained.shift();
      if (!stale) {
        this.evict(task);
        evicted++;
      }
    }
    return evicted;
  }

  list(filter: TaskFilter, cursor: number | undefined, limit: number, now: number): TaskPage {
    const history = this.history;
    const tasks: TaskRecord[] = [];
    let nextCursor: number | undefined;
    for (let i = cursor === undefined ? history.length - 1 : this.indexBefore(cursor); i >= 0; i--) {
      const task = history[i]!;
      if (!this.isListed(task, filter, now)) continue;
      if (tasks.length === limit) {
        nextCursor = tasks[limit - 1]!.order;
        break;
      }
      tasks.push(task);
    }
    return { tasks, nextCursor, total: this.totalFromCounters(filter) ?? this.countMatches(filter, now) };
  }

  counts(): StateCounts {
    return {
      queued: this.queued,
      scheduled: this.byState[TaskState.SCHEDULED]!,
      running: this.byState[TaskState.RUNNING]!,
      succeeded: this.byState[TaskState.SUCCEEDED]!,
      failed: this.byState[TaskState.FAILED]!,
      cancelled: this.byState[TaskState.CANCELLED]!,
    };
  }

  private pushQueued(task: TaskRecord, keepPlace: boolean): void {
    let queue = this.queues.get(task.name);
    if (queue === undefined) this.queues.set(task.name, (queue = new NameQueue()));
    task.state = TaskState.QUEUED;
    this.queued[task.priority]!++;
    if (keepPlace && task.queueSeq > 0) {
      queue.putBack(task);
    } else {
      task.queueSeq = ++this.queueSeq;
      queue.push(task);
    }
  }

  /** Uncounts a task from its current (non-queued) state before it is queued again. */
  private leaveState(task: TaskRecord): void {
    if (task.state === TaskState.QUEUED) throw new Error(`task ${task.id} is already queued`);
    this.byState[task.state]!--;
  }

  private retainedCount(): number {
    return this.byState[TaskState.SUCCEEDED]! + this.byState[TaskState.FAILED]! + this.byState[TaskState.CANCELLED]!;
  }

  private isExpired(task: TaskRecord, now: number): boolean {
    return task.finishedAt > 0 && isFinalState(task.state) && task.finishedAt + this.options.resultTtlMs <= now;
  }

  private evict(task: TaskRecord): void {
    if (task.evicted) return;
    task.evicted = true;
    this.tasks.delete(task.id);
    const key = task.options.idempotencyKey;
    if (key && this.byKey.get(key) === task) this.byKey.delete(key);
    this.byState[task.state]!--;
    if (++this.evictedInHistory > 1024 && this.evictedInHistory * 2 > this.history.length) {
      this.history = this.history.filter((t) => !t.evicted);
      this.evictedInHistory = 0;
    }
  }

  /** The index of the newest task created before `order` (history is in creation order). */
  private indexBefore(order: number): number {
    let lo = 0;
    let hi = this.history.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.order < order) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The total a filter matches, when the counters alone can tell. */
  private totalFromCounters(filter: TaskFilter): number | undefined {
    if (filter.name || filter.priority || filter.idPrefix) return undefined;
    const states = filter.states?.length ? filter.states : undefined;
    const count = (state: TaskState): number =>
      state === TaskState.QUEUED ? this.queued.reduce((a, b) => a + b, 0) : this.byState[state]!;
    if (states === undefined) {
      let total = 0;
      for (let s = TaskState.QUEUED; s <= TaskState.CANCELLED; s++) total += count(s);
      return total;
    }
    return states.reduce((sum, s) => sum + count(s), 0);
  }

  private countMatches(filter: TaskFilter, now: number): number {
    let total = 0;
    for (const task of this.history) if (this.isListed(task, filter, now)) total++;
    return total;
  }

  private isListed(task: TaskRecord, filter: TaskFilter, now: number): boolean {
    return !task.evicted && !this.isExpired(task, now) && matches(task, filter);
  }
}

function matches(task: TaskRecord, filter: TaskFilter): boolean {
  if (filter.states !== undefined && filter.states.length > 0 && !filter.states.includes(task.state)) return false;
  if (filter.name && task.name !== filter.name) return false;
  if (filter.priority && task.priority !== filter.priority) return false;
  if (filter.idPrefix && !task.id.startsWith(filter.idPrefix)) return false;
  return true;
}
