import type { HeapSlot } from "../indexed-heap.js";
import type { AttemptRecord, TaskRecord } from "../task-record.js";

// Write access to records. Only modules in server/store/ import this folder
// (scripts/check-layers.mjs enforces it): anywhere else, writing a field of a
// TaskRecord is a compile error, so every change goes through the store.

/** A type with its read-only fields made writable. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The store's write access to a task record. */
export function writable(task: TaskRecord): Writable<TaskRecord> & { attempts: AttemptRecord[] | undefined } {
  return task as Writable<TaskRecord> & { attempts: AttemptRecord[] | undefined };
}

/** The store's write access to an attempt record. */
export function writableAttempt(attempt: AttemptRecord): Writable<AttemptRecord> {
  return attempt as Writable<AttemptRecord>;
}

/** A task's place in the structure that holds it while it waits (TaskRecord.slot), for IndexedHeap. */
export const TASK_SLOT: HeapSlot<TaskRecord> = { get: (task) => task.slot, set: (task, index) => (writable(task).slot = index) };
