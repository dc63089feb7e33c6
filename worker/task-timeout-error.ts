/** The abort reason a handler's signal carries when its attempt runs past its timeout. */
export class TaskTimeoutError extends Error {
  override readonly name = "TaskTimeoutError";

  constructor(readonly timeoutMs: number) {
    super(`the attempt timed out after ${timeoutMs / 1000}s`);
  }
}
