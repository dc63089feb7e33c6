import type { Assignment } from "../../gen/fastworker/v1/worker_service_pb.js";
import type { TaskStore } from "../store/task-store.js";
import type { AttemptRecord, TaskRecord } from "../store/task-record.js";
import type { WorkerRegistry } from "./worker-registry.js";
import type { WorkerSession } from "./worker-session.js";

/** What the dispatcher needs from the rest of the control plane. */
export interface DispatcherDeps {
  store: TaskStore;
  workers: WorkerRegistry;
  /** Records a new attempt of a task on a worker and builds its assignment. */
  startAttempt(task: TaskRecord, worker: WorkerSession, now: number): { attempt: AttemptRecord; assignment: Assignment };
}

/**
 * Matches queued tasks to workers' free credits. A round runs in a microtask
 * after anything that could change the match (a submission, a result, a
 * worker joining): right after the message that caused it, so an idle
 * submission is dispatched in the same turn it arrived, while everything one
 * incoming message brought (a batch of submissions or results) goes out in
 * one stream message per worker.
 *
 * Fairness: workers take one task each per round, least loaded first, so a
 * small burst spreads over idle workers instead of filling the first one.
 */
export class Dispatcher {
  private pending = false;
  private running = false;

  constructor(private readonly deps: DispatcherDeps) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
  }

  /** Asks for a dispatch round once the current message is handled. */
  schedule(): void {
    if (this.pending || !this.running) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.running) this.runOnce(Date.now());
    });
  }

  /** One dispatch round; returns the number of assignments sent. */
  runOnce(now: number): number {
    const candidates: WorkerSession[] = [];
    for (const worker of this.deps.workers.live()) if (worker.free > 0) candidates.push(worker);
    if (candidates.length === 0) return 0;
    candidates.sort((a, b) => a.inflight.size / a.capacity - b.inflight.size / b.capacity);
    const touched = candidates.slice();
    let assigned = 0;
    while (candidates.length > 0) {
      for (let i = 0; i < candidates.length; ) {
        const worker = candidates[i]!;
        const task = this.deps.store.takeNext(worker.names);
        if (task === undefined) {
          candidates.splice(i, 1);
          continue;
        }
        const { attempt, assignment } = this.deps.startAttempt(task, worker, now);
        worker.assign(assignment, attempt);
        assigned++;
        if (worker.free <= 0) candidates.splice(i, 1);
        else i++;
      }
    }
    for (const worker of touched) worker.flush();
    return assigned;
  }
}
