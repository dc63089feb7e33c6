/** Wall-clock times (ms since the epoch, sub-ms precision) the instrumented control plane records per task. */
export interface ServerStamps {
  /** ControlPlane.submit accepted it (task.submitted). */
  submitted?: number;
  /** The dispatcher assigned it to a worker (task.dispatched). */
  dispatched?: number;
  /** The result was applied (task.finished). */
  finished?: number;
  /** The control plane learned a client waits for it (a waiter was added, or it was looked up after it finished). */
  waitArrived?: number;
  /** The wait arrived only after the task had finished. */
  waitLate?: boolean;
}

/** instrumented server ↔ harness IPC */
export type StampsRequest = { type: "stamps"; ids: string[] };
export type StampsResponse = { type: "stamps"; stamps: Record<string, ServerStamps> };
