/** The abort reason a handler's signal carries when its task is cancelled. */
export class TaskCancelledError extends Error {
  override readonly name = "TaskCancelledError";

  constructor(readonly reason: string) {
    super(`the task was cancelled: ${reason}`);
  }
}
