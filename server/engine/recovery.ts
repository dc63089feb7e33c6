import type { LogValue } from "../store/state-log.js";
import type { Recovered } from "../store/task-store.js";
import type { ControlPlane } from "./control-plane.js";
import { PAUSES_RECORD } from "./name-pauses.js";
import { workerFromRecord } from "./worker-session.js";

/** Which process a control plane is, so its successor recognises its in-process worker. */
export interface ProcessIdentity {
  host: string;
  pid: number;
}

/** What {@link restoreState} found, for the start-up log line. */
export interface RestoreSummary {
  tasks: number;
  queued: number;
  scheduled: number;
  /** Attempts left running on workers that may report them (their sessions were restored). */
  running: number;
  /** Attempts given up at once (their worker died with the previous control plane, or is unknown). */
  requeued: number;
  workers: number;
}

/**
 * Rebuilds what the engine keeps beside the store after a restart: task
 * definitions, worker sessions, the scheduler's timers, and the attempts
 * that were running.
 *
 * A running attempt stays with its worker when the worker's session is
 * known: the session is restored DISCONNECTED, and a worker that
 * reattaches within the detach grace reports its results as if its stream
 * had only blinked (fencing by task id + attempt carries over). It says
 * which attempts it still holds; the others go back to the queue. A session
 * that does not come back is lost after the grace, and its tasks go back to
 * their places. The worker that ran inside the previous control-plane
 * process (`fw-server --tasks`) died with it: its attempts go back at once.
 */
export function restoreState(plane: ControlPlane, recovered: Recovered, self: ProcessIdentity, now: number): RestoreSummary {
  const records = (name: "workers" | "definitions" | "meta" | "limits" | "schedules"): Map<string, LogValue> => recovered.records.get(name) ?? new Map();
  const previous = records("meta").get("process") as unknown as ProcessIdentity | undefined;
  for (const [name, value] of records("definitions")) plane.definitions.restore(name, value);
  plane.limits.restore(records("limits"), now);
  plane.pauses.restore(records("meta").get(PAUSES_RECORD));
  plane.schedules.restore(records("schedules"));
  let workers = 0;
  for (const [id, value] of records("workers")) {
    const { identity, connectedAt, secretHash } = workerFromRecord(value);
    const ownWorker = previous !== undefined && identity.host === previous.host && identity.pid === previous.pid;
    // The previous process's own worker died with it; a session without a secret hash (written by an
    // older version) could be taken over by anyone who knows its id: its worker registers again.
    if (ownWorker || secretHash === undefined) {
      plane.store.saveRecord("workers", id, undefined);
      continue;
    }
    plane.workers.restore(id, identity, connectedAt, secretHash, now);
    workers++;
  }
  let running = 0;
  let requeued = 0;
  for (const task of recovered.running) {
    const attempt = task.currentAttempt;
    const session = attempt === undefined ? undefined : plane.workers.get(attempt.workerId);
    if (attempt !== undefined && attempt.isOpen && session !== undefined) {
      session.inflight.add(attempt);
      plane.limits.adopt(task, now);
      running++;
    } else if (attempt !== undefined && attempt.isOpen) {
      plane.attempts.abandon(attempt, now, "the control plane restarted and the worker that ran this attempt is gone");
      requeued++;
    } else {
      plane.lifecycle.putBack(task); // RUNNING without an open attempt: cannot be running anywhere
      requeued++;
    }
  }
  for (const task of recovered.scheduled) plane.scheduler.add(task, now);
  plane.resumeOrder(recovered.maxOrder);
  plane.store.saveRecord("meta", "process", { host: self.host, pid: self.pid, startedAt: now });
  const counts = plane.store.counts();
  return {
    tasks: recovered.tasks,
    queued: counts.queued.reduce((a, b) => a + b, 0),
    scheduled: counts.scheduled,
    running,
    requeued,
    workers,
  };
}
