import type { History } from "./history.js";
import { type ColdLanes, lastPageSize, nextToRun, runKey } from "./run-order.js";
import type { Cursor, ListOrder, PageRequest, TaskPage } from "./store.js";
import type { TaskRecord } from "./task-record.js";

/**
 * Pages of a listing in any of its orders, both ways. Bounded work per page:
 *
 * - By creation ("newest", "oldest"): a walk of the history from the
 *   cursor's position (a binary search), costing the page plus the tasks the
 *   filter skips on the way.
 * - "next" (the order waiting tasks run in): see {@link nextToRun}; the
 *   cold tier's tasks are read per lane from the cursor's place.
 *
 * The walks let the event loop run between chunks (see History.walk).
 * `listed` says which tasks the filter (and retention) accepts; `total`
 * counts them, called only for orders by creation (the counters may know).
 * `cold` undefined: no task of the cold tier can match (none is read from disk).
 */
export async function listPage(history: History, listed: (task: TaskRecord) => boolean, request: PageRequest, total: () => number | Promise<number>, cold: ColdLanes | undefined): Promise<TaskPage> {
  const order = request.order ?? "newest";
  if (order === "next") return nextToRun(history, listed, request, cold);
  return byCreation(history, listed, order, request, await total(), cold !== undefined);
}

async function byCreation(history: History, listed: (task: TaskRecord) => boolean, order: "newest" | "oldest", request: PageRequest, total: number, cold: boolean): Promise<TaskPage> {
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
    const { tasks, more } = await history.scan(listed, step === -1 ? 0 : history.length - 1, -step as 1 | -1, size, cold);
    tasks.reverse();
    return { tasks, next: undefined, previous: more && tasks.length > 0 ? cursorOf(tasks[0]!, false) : undefined, total };
  }
  if (cursor === undefined || cursor.forward) {
    const from = cursor === undefined ? (step === -1 ? history.length - 1 : 0) : start(cursor.key[0]!, true);
    const { tasks, more } = await history.scan(listed, from, step, limit, cold);
    const first = tasks[0];
    return {
      tasks,
      next: more ? cursorOf(tasks[tasks.length - 1]!, true) : undefined,
      // From a cursor there may be tasks before this page (there was at least the one it names).
      previous: cursor === undefined ? undefined : first !== undefined ? cursorOf(first, false) : { ...cursor, forward: false },
      total,
    };
  }
  const { tasks, more } = await history.scan(listed, start(cursor.key[0]!, false), -step as 1 | -1, limit, cold);
  tasks.reverse();
  const last = tasks[tasks.length - 1];
  return {
    tasks,
    previous: more ? cursorOf(tasks[0]!, false) : undefined,
    next: last !== undefined ? cursorOf(last, true) : { ...cursor, forward: true },
    total,
  };
}

/** The cursor of the page that continues forward right after `task` (a page cut short, e.g. by bytes). */
export function cursorAfter(task: TaskRecord, order: ListOrder): Cursor {
  return { order, forward: true, key: order === "next" ? runKey(task) : [task.order] };
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
