import type { AttemptRecord, TaskRecord } from "../store/task-record.js";

/**
 * When an attempt started waiting for a worker: the task's submission for the
 * first attempt, else the end of the attempt before it. The queue-wait span
 * and histogram both measure from here to the attempt's dispatch, so a
 * submission delay and a retry's backoff count as waiting.
 */
export function waitingSince(task: TaskRecord, attempt: AttemptRecord): number {
  const previous = attempt.number > 1 ? task.attemptNumbered(attempt.number - 1) : undefined;
  return Math.max(task.createdAt, previous?.finishedAt ?? 0);
}
