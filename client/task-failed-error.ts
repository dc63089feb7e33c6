import type { TaskErrorInfo } from "./task-info.js";

/**
 * What waiting for a result throws when the task ended FAILED or CANCELLED.
 * `error` is the handler's error (message, type, stack) or the cancel reason.
 */
export class TaskFailedError extends Error {
  override readonly name = "TaskFailedError";

  constructor(
    readonly taskId: string,
    readonly state: "failed" | "cancelled",
    readonly error: TaskErrorInfo,
  ) {
    super(`task ${taskId} ${state}: ${error.type ? `${error.type}: ` : ""}${error.message}`);
  }
}
