/** The abort reason a handler's signal carries when its worker shuts down before it finished. */
export class WorkerShutdownError extends Error {
  override readonly name = "WorkerShutdownError";

  constructor() {
    super("the worker is shutting down; the task goes back to the queue");
  }
}
