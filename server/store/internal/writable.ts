import type { TaskState } from "../../../gen/fastworker/v1/task_pb.js";
import type { HeapSlot } from "../indexed-heap.js";
import { ARGS_UNIT, EVICTED_BIT, TaskRun, type AttemptRecord, type TaskRecord } from "../task-record.js";

// Write access to records. Only modules in server/store/ import this folder
// (scripts/check-layers.mjs enforces it): anywhere else, writing a field of a
// TaskRecord is a compile error, so every change goes through the store.

/** A type with its read-only fields made writable. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The store's write access to a task record's own fields (the packed ones have setters below). */
export function writable(task: TaskRecord): Pick<Writable<TaskRecord>, "queueSeq" | "slot" | "name" | "argsJson" | "options"> {
  return task as Writable<TaskRecord>;
}

/** The store's write access to what a task has once it runs (made on first use). */
export function runOf(task: TaskRecord): Writable<TaskRun> & { attempts: AttemptRecord[] | undefined } {
  return ((task as Writable<TaskRecord>).run ??= new TaskRun()) as Writable<TaskRun> & { attempts: AttemptRecord[] | undefined };
}

/** Drops what a task's run holds (an evicted record keeps its counters, not its payloads). */
export function clearRun(task: TaskRecord): void {
  const run = task.run as Writable<TaskRun> | undefined;
  if (run === undefined) return;
  run.attempts = undefined;
  run.resultJson = undefined;
  run.error = undefined;
  run.progress = undefined;
  run.logs = undefined;
}

export function setState(task: TaskRecord, state: TaskState): void {
  const w = task as Writable<TaskRecord>;
  w.bits = w.bits - (w.bits & 0b111) + state;
}

export function setEvicted(task: TaskRecord): void {
  const w = task as Writable<TaskRecord>;
  if ((w.bits & EVICTED_BIT) === 0) w.bits += EVICTED_BIT;
}

export function setArgsBytes(task: TaskRecord, bytes: number): void {
  const w = task as Writable<TaskRecord>;
  w.bits = (w.bits % ARGS_UNIT) + bytes * ARGS_UNIT;
}

/** The store's write access to an attempt record. */
export function writableAttempt(attempt: AttemptRecord): Writable<AttemptRecord> {
  return attempt as Writable<AttemptRecord>;
}

/** A task's place in the structure that holds it while it waits (TaskRecord.slot), for IndexedHeap. */
export const TASK_SLOT: HeapSlot<TaskRecord> = { get: (task) => task.slot, set: (task, index) => (writable(task).slot = index) };
