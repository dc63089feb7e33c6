import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { TaggedDeque } from "./deque.js";
import { IndexedHeap } from "./indexed-heap.js";
import { TASK_SLOT, writable } from "./internal/writable.js";
import type { TaskRecord } from "./task-record.js";

const LEVELS = Priority.LOW + 1;

/**
 * The queued tasks of one lane: a task name, or one value of its limit key
 * (see Queues). One FIFO per priority, plus, per priority, a heap of tasks
 * put back at their old place after a lost attempt.
 * The next task of a priority is whichever of the two heads has the lower
 * queue sequence number.
 *
 * A task that leaves QUEUED other than from the front (cancelled) is
 * removed at once ({@link remove}): its FIFO entry is cleared where it
 * stands, its heap entry taken out, so the queue never keeps a cancelled
 * task (and its args) alive. Entries are also tagged with the task's
 * queueSeq, and one that is not live (a QUEUED task with that queueSeq) is
 * skipped when it reaches the front.
 */
export class NameQueue {
  /** Live (QUEUED) tasks per priority, index = Priority. */
  readonly live: number[] = new Array<number>(LEVELS).fill(0);
  private readonly fresh: TaggedDeque<TaskRecord>[] = [];
  private readonly returned: (IndexedHeap<TaskRecord> | undefined)[] = new Array(LEVELS).fill(undefined);
  /** Held back by a flow limit: its tasks stay queued but are not taken (Queues keeps the counts). */
  parked = false;
  /** Per priority, the head's queueSeq this lane is filed under in its name's lane heap (0: not filed). */
  readonly filed: number[] = new Array<number>(LEVELS).fill(0);

  constructor(
    readonly name: string,
    /** The limit key's value ("" for names without a keyed limit). */
    readonly key: string,
  ) {
    for (let p = 0; p < LEVELS; p++) this.fresh.push(new TaggedDeque<TaskRecord>(p === Priority.NORMAL ? 64 : 4));
  }

  /** Live tasks of all priorities. */
  get size(): number {
    return this.live[1]! + this.live[2]! + this.live[3]! + this.live[4]!;
  }

  /** Appends a task whose queueSeq is the newest. */
  push(task: TaskRecord): void {
    writable(task).slot = this.fresh[task.priority]!.push(task, task.queueSeq);
    this.live[task.priority]!++;
  }

  /** Puts a task back at the place its (older) queueSeq gives it. */
  putBack(task: TaskRecord): void {
    let heap = this.returned[task.priority];
    if (heap === undefined) this.returned[task.priority] = heap = new IndexedHeap<TaskRecord>(TASK_SLOT);
    heap.push(task, task.queueSeq);
    this.live[task.priority]!++;
  }

  /** Uncounts a task that left QUEUED, and takes it out wherever it stands (nothing to take out when {@link take} took it). */
  remove(task: TaskRecord): void {
    this.live[task.priority]!--;
    if (!this.fresh[task.priority]!.clear(task.slot, task)) this.returned[task.priority]?.remove(task);
  }

  /** The oldest live task of a priority, without removing it. */
  peek(priority: Priority): TaskRecord | undefined {
    if (this.live[priority] === 0) return undefined;
    const fromFresh = this.freshHead(priority);
    const fromReturned = this.returnedHead(priority);
    if (fromReturned === undefined) return fromFresh;
    if (fromFresh === undefined) return fromReturned;
    return fromReturned.queueSeq < fromFresh.queueSeq ? fromReturned : fromFresh;
  }

  /** Takes out every live task, oldest first per priority (to file them in other lanes). */
  drain(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (let p = Priority.CRITICAL; p <= Priority.LOW; p++) {
      for (let task = this.peek(p); task !== undefined; task = this.peek(p)) {
        this.take(task);
        this.live[p]!--;
        out.push(task);
      }
    }
    return out;
  }

  /** Removes the task {@link peek} returned; the caller changes its state. */
  take(task: TaskRecord): void {
    const deque = this.fresh[task.priority]!;
    if (deque.peek() === task && deque.peekTag() === task.queueSeq) deque.shift();
    else this.returned[task.priority]!.pop();
  }

  private freshHead(priority: Priority): TaskRecord | undefined {
    const deque = this.fresh[priority]!;
    while (deque.length > 0) {
      const task = deque.peek();
      if (task !== undefined && task.state === TaskState.QUEUED && task.queueSeq === deque.peekTag()) return task;
      deque.shift(); // cleared, or stale
    }
    return undefined;
  }

  private returnedHead(priority: Priority): TaskRecord | undefined {
    const heap = this.returned[priority];
    if (heap === undefined) return undefined;
    for (;;) {
      const task = heap.peek();
      if (task === undefined) return undefined;
      if (task.state === TaskState.QUEUED) return task;
      heap.pop();
    }
  }
}
