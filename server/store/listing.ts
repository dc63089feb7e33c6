import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { History } from "./history.js";
import type { Cursor, ListOrder, PageRequest, TaskPage } from "./store.js";
import type { TaskRecord } from "./task-record.js";

/**
 * Pages of a listing in any of its orders, both ways. Bounded work per page:
 *
 * - By creation ("newest", "oldest"): a walk of the history from the
 *   cursor's position (a binary search), costing the page plus the tasks the
 *   filter skips on the way.
 * - "next" (the order waiting tasks run in): one pass over the history that
 *   keeps the `limit` best tasks past the cursor (a selection, not a sort),
 *   so a page of 50 among 1,000,000 queued tasks costs a scan, not a sort.
 *
 * `listed` says which tasks the filter (and retention) accepts; `total`
 * counts them, called only for orders by creation (the counters may know).
 * `cold` false: no task of the cold tier can match (none is read from disk).
 */
export function listPage(history: History, listed: (task: TaskRecord) => boolean, request: PageRequest, total: () => number, cold = true): TaskPage {
  const order = request.order ?? "newest";
  if (order === "next") return nextToRun(history, listed, request, cold);
  return byCreation(history, listed, order, request, total(), cold);
}

function byCreation(history: History, listed: (task: TaskRecord) => boolean, order: "newest" | "oldest", request: PageRequest, total: number, cold: boolean): TaskPage {
  const { cursor, limit } = request;
  // The listing's direction through the history (index order is oldest first).
  const step = order === "newest" ? -1 : 1;
  const start = (key: number, forward: boolean): number => {
    const towardsOlder = (step === -1) === forward;
    return towardsOlder ? history.indexBefore(key) : history.indexAfter(key);
  };
  const cursorOf = (task: TaskRecord, forward: boolean): Cursor => ({ order, forward, key: [task.order] });
  if (request.last) {
    const size = lastPageSize(total, limit);
    const { tasks, more } = history.scan(listed, step === -1 ? 0 : history.length - 1, -step as 1 | -1, size, cold);
    tasks.reverse();
    return { tasks, next: undefined, previous: more && tasks.length > 0 ? cursorOf(tasks[0]!, false) : undefined, total };
  }
  if (cursor === undefined || cursor.forward) {
    const from = cursor === undefined ? (step === -1 ? history.length - 1 : 0) : start(cursor.key[0]!, true);
    const { tasks, more } = history.scan(listed, from, step, limit, cold);
    const first = tasks[0];
    return {
      tasks,
      next: more ? cursorOf(tasks[tasks.length - 1]!, true) : undefined,
      // From a cursor there may be tasks before this page (there was at least the one it names).
      previous: cursor === undefined ? undefined : first !== undefined ? cursorOf(first, false) : { ...cursor, forward: false },
      total,
    };
  }
  const { tasks, more } = history.scan(listed, start(cursor.key[0]!, false), -step as 1 | -1, limit, cold);
  tasks.reverse();
  const last = tasks[tasks.length - 1];
  return {
    tasks,
    previous: more ? cursorOf(tasks[0]!, false) : undefined,
    next: last !== undefined ? cursorOf(last, true) : { ...cursor, forward: true },
    total,
  };
}

/** Where a waiting task stands in the order it will run in: queued by priority and queue position, then scheduled by due time. */
function runKey(task: TaskRecord): [number, number, number] {
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

function nextToRun(history: History, listed: (task: TaskRecord) => boolean, request: PageRequest, cold: boolean): TaskPage {
  const { cursor, limit } = request;
  const waiting = (task: TaskRecord): boolean => (task.state === TaskState.QUEUED || task.state === TaskState.SCHEDULED) && listed(task);
  const candidates = history.all(waiting, false, cold);
  const total = candidates.length;
  const cursorOf = (task: TaskRecord, forward: boolean): Cursor => ({ order: "next", forward, key: runKey(task) });
  // Forward pages keep the smallest keys past the cursor; backward pages (and the last page) the largest before it.
  const forward = cursor === undefined ? !request.last : cursor.forward;
  const bound = cursor?.key;
  const size = request.last ? lastPageSize(total, limit) : limit;
  const inRange = (task: TaskRecord): boolean => bound === undefined || (forward ? compareToKey(task, bound) > 0 : compareToKey(task, bound) < 0);
  const picked = select(candidates, inRange, size + 1, forward ? compareTasks : (a, b) => compareTasks(b, a));
  const more = picked.length > size;
  const tasks = picked.slice(0, size);
  if (!forward) tasks.reverse();
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
 * The `k` best tasks (smallest by `compare`) among those in range, best
 * first: a sorted buffer of at most k, so a scan of n tasks costs about n
 * comparisons with the buffer's worst, plus k·log(n/k) insertions on average.
 */
function select(tasks: readonly TaskRecord[], inRange: (task: TaskRecord) => boolean, k: number, compare: (a: TaskRecord, b: TaskRecord) => number): TaskRecord[] {
  const best: TaskRecord[] = [];
  for (const task of tasks) {
    if (best.length === k && compare(task, best[k - 1]!) >= 0) continue;
    if (!inRange(task)) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(best[mid]!, task) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, task);
    if (best.length > k) best.pop();
  }
  return best;
}

/** The cursor of the page that continues forward right after `task` (a page cut short, e.g. by bytes). */
export function cursorAfter(task: TaskRecord, order: ListOrder): Cursor {
  return { order, forward: true, key: order === "next" ? runKey(task) : [task.order] };
}

/** How many tasks the last page holds when `total` tasks are cut into pages of `limit` from the start. */
export function lastPageSize(total: number, limit: number): number {
  return total === 0 ? limit : total % limit || limit;
}

/** The orders a cursor can belong to, by the letter that starts its token. */
const ORDER_LETTERS: Record<ListOrder, string> = { newest: "n", oldest: "o", next: "r" };

/**
 * A cursor as the page token clients pass back: the order's letter, "f"
 * (forward) or "b" (backward), and the key, e.g. "nf1234" or "rb0.3.981".
 */
export function encodeCursor(cursor: Cursor): string {
  return `${ORDER_LETTERS[cursor.order]}${cursor.forward ? "f" : "b"}${cursor.key.join(".")}`;
}

/**
 * A page token read back; undefined when it is not one this server makes.
 * A bare number is a token from before orders existed (newest first, forward).
 */
export function decodeCursor(token: string): Cursor | undefined {
  if (/^\d+$/.test(token)) return { order: "newest", forward: true, key: [Number(token)] };
  const match = /^([nor])([fb])(\d+(?:\.\d+){0,2})$/.exec(token);
  if (match === null) return undefined;
  const order = (Object.keys(ORDER_LETTERS) as ListOrder[]).find((o) => ORDER_LETTERS[o] === match[1])!;
  const key = match[3]!.split(".").map(Number);
  if (key.length !== (order === "next" ? 3 : 1) || !key.every(Number.isSafeInteger)) return undefined;
  return { order, forward: match[2] === "f", key };
}
