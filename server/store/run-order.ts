import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { type History, nextTurn, PAUSE } from "./history.js";
import type { Cursor, PageRequest, TaskPage } from "./store.js";
import type { TaskRecord } from "./task-record.js";

/**
 * The cold tier as the run-order listing reads it: the lanes (name and
 * priority) with cold tasks a filter may match, each read in queue order
 * from any place, so a page reads about as many records as it shows.
 */
export interface ColdLanes {
  /** The lanes whose cold tasks the filter may match, and how many cold tasks each has. */
  lanes: readonly { name: string; priority: number; count: number }[];
  /**
   * Every cold task of those lanes matches (the filter tests only state,
   * name and priority): a lane's first tasks are its first listed ones,
   * and its count is its share of the total. Else each is read and tested.
   */
  whole: boolean;
  /** Whether a task in memory is one of the tier's (counted in its lane's count). */
  isCold(task: TaskRecord): boolean;
  /** Where a lane's tasks with queueSeq at least `queueSeq` start (see ColdTier.seek). */
  seek(name: string, priority: number, queueSeq: number): string;
  /** A lane's tasks on disk only, in queue order (see ColdTier.readLane). */
  readLane(name: string, priority: number, read: { from?: string | undefined; reverse: boolean; limit: number }): { tasks: TaskRecord[]; next: string; done: boolean };
}

/** Where a waiting task stands in the order it will run in: queued by priority and queue position, then scheduled by due time. */
export function runKey(task: TaskRecord): [number, number, number] {
  return task.state === TaskState.QUEUED ? [0, task.priority, task.queueSeq] : [1, Math.floor(task.scheduledFor), task.order];
}

/** A task's run key compared with a key, without making the task's (a page scans every waiting task). */
function compareToKey(task: TaskRecord, key: readonly number[]): number {
  const queued = task.state === TaskState.QUEUED;
  return (queued ? 0 : 1) - key[0]! || (queued ? task.priority : Math.floor(task.scheduledFor)) - key[1]! || (queued ? task.queueSeq : task.order) - key[2]!;
}

/** Two waiting tasks in run order. */
function compareTasks(a: TaskRecord, b: TaskRecord): number {
  return compareToKey(a, runKey(b));
}

/**
 * A page in "next" order (the order waiting tasks run in), either way: the
 * `limit + 1` best tasks past the cursor are kept while candidates are
 * offered (a selection, not a sort: a page of 50 among 1,000,000 queued
 * tasks costs a pass, not a sort).
 *
 * With a filter on state, name and priority only (or no cold tier), in one
 * event-loop turn: the tasks in memory (the cold tier's kept records
 * included) from the history, no disk read; then, per lane of the cold
 * tier, its first `limit + 1` tasks on disk past the cursor's place (all a
 * lane can give: its tasks on disk are in queue order), and the counters'
 * total. One turn, so no task moves between memory and disk in between
 * (a top-up, a record let go) to be counted twice or missed.
 *
 * With any other filter (text, id prefix, times, worker) over the cold
 * tier, every task must be read and tested anyway (for the total): one walk
 * of the history, cold records read from disk in chunks, letting the event
 * loop run between them; each task is seen once, as it is when reached.
 */
export async function nextToRun(history: History, listed: (task: TaskRecord) => boolean, request: PageRequest, cold: ColdLanes | undefined): Promise<TaskPage> {
  const { cursor, limit } = request;
  // Forward pages keep the smallest keys past the cursor; backward pages (and the last page) the largest before it.
  const forward = cursor === undefined ? !request.last : cursor.forward;
  const bound = cursor?.key;
  const inRange = (task: TaskRecord): boolean => bound === undefined || (forward ? compareToKey(task, bound) > 0 : compareToKey(task, bound) < 0);
  const best = new Best(limit + 1, forward ? compareTasks : (a, b) => compareTasks(b, a), inRange);
  const waiting = (task: TaskRecord): boolean => (task.state === TaskState.QUEUED || task.state === TaskState.SCHEDULED) && listed(task);
  let total = 0;
  if (cold === undefined || cold.whole) {
    for (const task of history.walk(0, 1, false)) {
      if (task === PAUSE || !waiting(task)) continue; // one turn: see above
      best.offer(task);
      if (!cold?.isCold(task)) total++; // the cold tier's are in its lanes' counts
    }
    for (const lane of cold?.lanes ?? []) {
      total += lane.count;
      const from = startIn(cold!, lane, bound, forward);
      if (from !== undefined) readLane(cold!, lane, { from: from.key, reverse: !forward, want: limit + 1 }, (task) => best.offer(task));
    }
  } else {
    for (const task of history.walk(0, 1, true)) {
      if (task === PAUSE) await nextTurn();
      else if (waiting(task)) {
        best.offer(task);
        total++;
      }
    }
  }
  const size = request.last ? lastPageSize(total, limit) : limit;
  const picked = best.tasks;
  const more = picked.length > size;
  const tasks = picked.slice(0, size);
  if (!forward) tasks.reverse();
  const cursorOf = (task: TaskRecord, forward: boolean): Cursor => ({ order: "next", forward, key: runKey(task) });
  const first = tasks[0];
  const last = tasks[tasks.length - 1];
  if (forward) {
    return {
      tasks,
      next: more ? cursorOf(last!, true) : undefined,
      previous: cursor === undefined ? undefined : first !== undefined ? cursorOf(first, false) : { ...cursor, forward: false },
      total,
    };
  }
  return {
    tasks,
    previous: more ? cursorOf(first!, false) : undefined,
    next: request.last ? undefined : last !== undefined ? cursorOf(last, true) : { ...cursor!, forward: true },
    total,
  };
}

/**
 * Where a page's tasks of a cold lane start, in the page's direction (all
 * queued tasks run before all scheduled ones, by priority, then queueSeq);
 * undefined when the lane has none past the cursor. `key` undefined: the
 * lane's first (forward) or last (backward).
 */
function startIn(cold: ColdLanes, lane: { name: string; priority: number }, bound: readonly number[] | undefined, forward: boolean): { key: string | undefined } | undefined {
  if (bound === undefined) return { key: undefined };
  const [group, priority, queueSeq] = bound as [number, number, number];
  if (group === 1) return forward ? undefined : { key: undefined };
  if (lane.priority === priority) return { key: cold.seek(lane.name, lane.priority, forward ? queueSeq + 1 : queueSeq) };
  return forward === lane.priority > priority ? { key: undefined } : undefined;
}

/** Reads a lane's tasks on disk in queue order, `want` at most (skipping those whose records are in memory). */
function readLane(cold: ColdLanes, lane: { name: string; priority: number }, read: { from: string | undefined; reverse: boolean; want: number }, each: (task: TaskRecord) => void): void {
  let from = read.from;
  for (let got = 0; got < read.want; ) {
    const { tasks, next, done } = cold.readLane(lane.name, lane.priority, { from, reverse: read.reverse, limit: read.want - got });
    for (const task of tasks) each(task);
    got += tasks.length;
    if (done) return;
    from = next;
  }
}

/**
 * The `k` best tasks (smallest by `compare`) among those offered in range,
 * best first: a sorted buffer of at most k, so n offers cost about n
 * comparisons with the buffer's worst, plus k·log(n/k) insertions on average.
 */
class Best {
  readonly tasks: TaskRecord[] = [];

  constructor(
    private readonly k: number,
    private readonly compare: (a: TaskRecord, b: TaskRecord) => number,
    private readonly inRange: (task: TaskRecord) => boolean,
  ) {}

  offer(task: TaskRecord): void {
    const best = this.tasks;
    if (best.length === this.k && this.compare(task, best[this.k - 1]!) >= 0) return;
    if (!this.inRange(task)) return;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(best[mid]!, task) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, task);
    if (best.length > this.k) best.pop();
  }
}

/** How many tasks the last page holds when `total` tasks are cut into pages of `limit` from the start (in any order). */
export function lastPageSize(total: number, limit: number): number {
  return total === 0 ? limit : total % limit || limit;
}
