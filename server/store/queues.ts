import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import { NameQueue } from "./name-queue.js";
import type { TaskRecord } from "./task-record.js";

/**
 * Every queued task, per task name (see {@link NameQueue}), with counts per
 * priority. Taking the next task for a worker scans, from CRITICAL down, the
 * heads of the queues of the names it serves and takes the oldest: strict
 * priority, FIFO within it.
 */
export class Queues {
  /** Queued tasks per priority, index = Priority value (0 unused). */
  readonly counts: number[] = new Array<number>(Priority.LOW + 1).fill(0);
  private readonly byName = new Map<string, NameQueue>();

  /** All queued tasks. */
  get total(): number {
    return this.counts[1]! + this.counts[2]! + this.counts[3]! + this.counts[4]!;
  }

  /** Adds a task at the back of its priority (its queueSeq is the newest), or at its old place. */
  add(task: TaskRecord, atOldPlace: boolean): void {
    let queue = this.byName.get(task.name);
    if (queue === undefined) this.byName.set(task.name, (queue = new NameQueue()));
    if (atOldPlace) queue.putBack(task);
    else queue.push(task);
    this.counts[task.priority]!++;
  }

  /** A task left QUEUED: uncounted, and out of its queue wherever it stood. */
  remove(task: TaskRecord): void {
    this.counts[task.priority]!--;
    const queue = this.byName.get(task.name)!;
    queue.remove(task);
    // With nothing live left, every entry is stale: drop the queue (and the tasks it still references).
    if (queue.size === 0) this.byName.delete(task.name);
  }

  /**
   * The next task for a worker serving these names, taken off its queue (the
   * caller moves it out of QUEUED at once), or undefined.
   */
  take(names: readonly string[]): TaskRecord | undefined {
    for (let p = Priority.CRITICAL; p <= Priority.LOW; p++) {
      if (this.counts[p] === 0) continue;
      let best: TaskRecord | undefined;
      let bestQueue: NameQueue | undefined;
      for (let i = 0; i < names.length; i++) {
        const queue = this.byName.get(names[i]!);
        if (queue === undefined) continue;
        const head = queue.peek(p);
        if (head !== undefined && (best === undefined || head.queueSeq < best.queueSeq)) {
          best = head;
          bestQueue = queue;
        }
      }
      if (best !== undefined) {
        bestQueue!.take(best);
        return best;
      }
    }
    return undefined;
  }
}
