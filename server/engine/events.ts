import { EventEmitter } from "node:events";
import type { AttemptRecord, TaskRecord } from "../store/task-record.js";
import type { WorkerSession } from "./worker-session.js";

/**
 * What happens inside the control plane, as typed events. The stats stream,
 * metrics and tests listen here instead of reaching into the loops.
 */
export interface ControlPlaneEventMap {
  /** A new task was accepted (not emitted for deduplicated submissions). */
  "task.submitted": [task: TaskRecord];
  /** An attempt was sent to a worker. */
  "task.dispatched": [task: TaskRecord, attempt: AttemptRecord];
  /** An attempt failed and the task will be tried again after its backoff. */
  "task.retrying": [task: TaskRecord, attempt: AttemptRecord];
  /** A SCHEDULED task was queued before its time (RunTaskNow). */
  "task.queued": [task: TaskRecord];
  /** A FAILED or CANCELLED task was queued again by RetryTask. */
  "task.retried": [task: TaskRecord];
  /** A running handler reported progress (at most as often as its worker reports). */
  "task.progress": [task: TaskRecord];
  /** The task reached SUCCEEDED, FAILED or CANCELLED. */
  "task.finished": [task: TaskRecord];
  /** An attempt was given up on (worker lost, unacknowledged) and its task queued again. */
  "attempt.lost": [attempt: AttemptRecord, reason: string];
  /** A report item that changed nothing (late, duplicate, forged). */
  "report.rejected": [worker: WorkerSession, taskId: string, attempt: number, reason: string];
  "worker.registered": [worker: WorkerSession];
  /** A worker opened its dispatch stream. */
  "worker.attached": [worker: WorkerSession];
  /** A worker's dispatch stream ended. */
  "worker.detached": [worker: WorkerSession];
  /** A worker missed its lease; its attempts went back to the queue. */
  "worker.lost": [worker: WorkerSession, reason: string];
  /** A worker finished draining and left. */
  "worker.left": [worker: WorkerSession];
  /** A schedule appeared, changed its timing or was resumed (the tick loop sets its timer again). */
  "schedule.changed": [];
  /** Workers declared a schedule id differently, or a stored schedule could not be read. */
  "schedule.conflict": [id: string, message: string];
}

/** The control plane's event emitter. */
export class ControlPlaneEvents extends EventEmitter<ControlPlaneEventMap> {}
