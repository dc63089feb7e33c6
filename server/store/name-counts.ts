import { TaskState } from "../../gen/fastworker/v1/task_pb.js";

/** Tasks per state of one name, index = TaskState (0 unused). */
export type StateTally = Readonly<Int32Array>;

/**
 * Tasks per state for each task name, kept as tasks move (one map lookup
 * per change), for the per-name table (ListTaskNames). A name's entry goes
 * when its last task does, so entries are bounded by the tasks kept.
 */
export class NameCounts {
  private readonly byName = new Map<string, Int32Array>();

  /** A task (or `n` tasks) of `name` entered `state`. */
  add(name: string, state: TaskState, n = 1): void {
    let tally = this.byName.get(name);
    if (tally === undefined) this.byName.set(name, (tally = new Int32Array(TaskState.CANCELLED + 1)));
    tally[state]! += n;
  }

  /** A task of `name` left `state` (moved on, or was dropped). */
  remove(name: string, state: TaskState): void {
    const tally = this.byName.get(name);
    if (tally === undefined) return;
    tally[state]!--;
    if (tally[state] === 0 && tally.every((n) => n === 0)) this.byName.delete(name);
  }

  /** A name's tasks per state (all zero for a name with no tasks). */
  get(name: string): StateTally {
    return this.byName.get(name) ?? EMPTY;
  }

  /** Names with tasks, and their tallies. */
  entries(): IterableIterator<[string, StateTally]> {
    return this.byName.entries();
  }
}

const EMPTY: StateTally = new Int32Array(TaskState.CANCELLED + 1);
