import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { AttemptOutcome, ErrorStatusSchema, TaskState, type TaskError } from "../../gen/fastworker/v1/task_pb.js";
import {
  CancelSignalSchema,
  RejectedItemSchema,
  type Assignment,
  type AttemptRef,
  type AttemptResult,
  type LogLines,
  type ProgressUpdate,
  type RejectedItem,
} from "../../gen/fastworker/v1/worker_service_pb.js";
import { overLimit } from "../../common/format-bytes.js";
import { jsonLimitProblem } from "../../common/json-limits.js";
import { exceedsBytes } from "../../common/split-by-bytes.js";
import { logLine } from "../../common/log-limits.js";
import { timestampToMs } from "../../common/time.js";
import type { EngineConfig } from "./config.js";
import type { Definitions } from "./definitions.js";
import type { ControlPlaneEvents } from "./events.js";
import type { TaskLifecycle } from "./lifecycle.js";
import { TEXT_LIMITS, truncateText } from "./text-limits.js";
import type { FlowLimits } from "./limits/flow-limits.js";
import type { RunTimes } from "./run-times.js";
import { resolveMaxAttempts } from "./retry-policy.js";
import type { StatsCounters } from "./stats.js";
import type { TaskStore } from "../store/task-store.js";
import { AttemptRecord, type TaskErrorData, type TaskRecord } from "../store/task-record.js";
import type { WorkerSession } from "./worker-session.js";

/** What {@link AttemptTracker} works with. */
export interface AttemptDeps {
  store: TaskStore;
  lifecycle: TaskLifecycle;
  stats: StatsCounters;
  events: ControlPlaneEvents;
  definitions: Definitions;
  config: EngineConfig;
  limits: FlowLimits;
  runTimes: RunTimes;
}

/**
 * Attempts from dispatch to outcome, with fencing: an item a worker reports
 * applies only to an open attempt that was given to that worker; anything
 * else (late, duplicate, forged) is rejected one by one and changes nothing.
 */
export class AttemptTracker {
  constructor(private readonly d: AttemptDeps) {}

  /** Records attempt n+1 of a RUNNING task on a worker and builds its assignment (sent once it is durable). */
  start(task: TaskRecord, worker: WorkerSession, now: number): { attempt: AttemptRecord; assignment: Assignment } {
    const attempt = this.d.store.startAttempt(task, worker.id, worker.name, now);
    this.d.limits.admit(task, now); // counts it against its name's flow limit (may park the lane)
    worker.inflight.add(attempt);
    this.d.events.emit("task.dispatched", task, attempt);
    const definition = this.d.definitions.get(task.name);
    const timeoutMs = this.timeoutOf(task);
    // A plain message object (the hand codec encodes it): no protobuf-es create() per dispatch.
    const assignment: Assignment = {
      $typeName: "fastworker.v1.Assignment",
      taskId: task.id,
      attempt: attempt.number,
      task: task.name,
      argsJson: task.argsJson,
      priority: task.priority,
      timeoutSeconds: timeoutMs / 1000,
      maxAttempts: resolveMaxAttempts(task.options.retry, definition?.retry),
      metadata: task.options.metadata ?? NO_METADATA,
      createdAtMs: task.createdAt,
    };
    return { attempt, assignment };
  }

  /** An attempt's timeout in ms (0 = none): the submission's, else its task definition's. */
  timeoutOf(task: TaskRecord): number {
    return task.options.timeoutMs ?? this.d.definitions.get(task.name)?.timeoutMs ?? 0;
  }

  /**
   * The control plane gives up on an open attempt its worker did not report
   * within its timeout plus the grace (the worker may be broken, or ignore
   * its timer): the attempt is TIMED_OUT and the task retried per its policy
   * or failed, as if the worker had reported the timeout; the worker is told
   * to stop it. The attempt keeps its worker's credit until the worker
   * reports it (its slot is busy until then) or is lost.
   */
  timeOut(worker: WorkerSession, attempt: AttemptRecord, now: number, message: string): void {
    const error: TaskErrorData = { message, stack: "", type: "TaskTimeoutError", retryable: true };
    const task = attempt.task;
    const current = task.state === TaskState.RUNNING && task.attempt === attempt.number;
    worker.failedTotal++;
    this.fail(attempt, current, now, AttemptOutcome.TIMED_OUT, error);
    worker.cancel(create(CancelSignalSchema, { taskId: task.id, attempt: attempt.number, reason: message }));
    worker.flush();
  }

  /** The worker received an assignment. */
  ack(worker: WorkerSession, taskId: string, n: number, now: number): RejectedItem | undefined {
    const found = this.find(worker, taskId, n, now);
    if (!(found instanceof AttemptRecord)) return found;
    if (!found.isOpen) return reject(taskId, n, Code.FailedPrecondition, `attempt ${n} of task ${taskId} is already over`);
    if (found.ackedAt === 0) {
      this.d.store.acknowledge(found, now);
      this.d.stats.acked++;
    }
    return undefined;
  }

  /** A handler reported progress. */
  progress(worker: WorkerSession, update: ProgressUpdate, now: number): RejectedItem | undefined {
    if (!(update.fraction >= 0 && update.fraction <= 1)) {
      return reject(update.taskId, update.attempt, Code.InvalidArgument, `a progress fraction is between 0 and 1 (got ${update.fraction})`);
    }
    const found = this.find(worker, update.taskId, update.attempt, now);
    if (!(found instanceof AttemptRecord)) return found;
    if (!found.isOpen || found.number !== found.task.attempt) {
      return reject(update.taskId, update.attempt, Code.FailedPrecondition, `attempt ${update.attempt} is no longer current`);
    }
    const message = truncateText(update.message, TEXT_LIMITS.progressMessage);
    this.d.store.setProgress(found.task, { fraction: update.fraction, message, updatedAt: now });
    this.d.events.emit("task.progress", found.task);
    return undefined;
  }

  /**
   * Lines a handler wrote with ctx.log(). Taken from the worker the attempt
   * was given to, even once the attempt is over (a report may carry them
   * after the result); each line is cut to its bound again, and the store
   * bounds the task's log.
   */
  logs(worker: WorkerSession, update: LogLines, now: number): RejectedItem | undefined {
    const found = this.find(worker, update.taskId, update.attempt, now);
    if (!(found instanceof AttemptRecord)) return found;
    if (!(update.dropped >= 0)) return reject(update.taskId, update.attempt, Code.InvalidArgument, `dropped is a count (got ${update.dropped})`);
    const lines = update.lines.map((line) => ({
      // A worker's clock is its own: a time past now (or missing) reads as now.
      at: Math.min(now, timestampToMs(line.time) || now),
      attempt: update.attempt,
      text: logLine(line.text),
    }));
    this.d.store.appendLogs(found.task, lines, update.dropped);
    this.d.events.emit("task.progress", found.task);
    return undefined;
  }

  /** An attempt ended on the worker. */
  result(worker: WorkerSession, result: AttemptResult, now: number): RejectedItem | undefined {
    const { taskId, attempt: n } = result;
    if (!RESULT_OUTCOMES.has(result.outcome)) {
      return reject(taskId, n, Code.InvalidArgument,
        `outcome ${AttemptOutcome[result.outcome] ?? result.outcome} is not a result; hand tasks back with "released"`);
    }
    const found = this.find(worker, taskId, n, now);
    if (!(found instanceof AttemptRecord)) return found;
    const attempt = found;
    const task = attempt.task;
    // A lost attempt whose task nobody has started again still counts (the work is done), if it
    // belongs to the task's current series and was not cancelled.
    const reclaimed =
      attempt.outcome === AttemptOutcome.LOST &&
      n === task.attempt &&
      n > task.seriesStart &&
      task.state === TaskState.QUEUED &&
      result.outcome !== AttemptOutcome.CANCELLED;
    if (!attempt.isOpen && !reclaimed) {
      // An attempt the control plane timed out held its worker's slot until now: free it.
      worker.inflight.delete(attempt);
      if (attempt.outcome === AttemptOutcome.LOST) {
        this.d.stats.lateResults++;
        return reject(taskId, n, Code.FailedPrecondition,
          `attempt ${n} of task ${taskId} was given up (${attempt.error?.message ?? "worker lost"}); result ignored`);
      }
      return reject(taskId, n, Code.AlreadyExists, `attempt ${n} of task ${taskId} was already reported`);
    }
    worker.inflight.delete(attempt);
    worker.finished.add(now);
    if (result.outcome !== AttemptOutcome.CANCELLED) this.d.runTimes.add(task.name, now - attempt.dispatchedAt);
    if (attempt.ackedAt === 0) {
      // The result came first (a worker leaves out the ack of a result it sends in the same report):
      // it acknowledges the assignment too, and the attempt says when (written with the result).
      this.d.store.acknowledge(attempt, now);
      this.d.stats.acked++;
    }
    const current = n === task.attempt && (task.state === TaskState.RUNNING || reclaimed);
    if (n < task.attempt) this.d.stats.lateResults++;
    switch (result.outcome) {
      case AttemptOutcome.SUCCEEDED: {
        const json = result.resultJson || "null";
        const invalid = resultProblem(json);
        if (invalid !== undefined) {
          worker.failedTotal++;
          return this.fail(attempt, current, now, AttemptOutcome.FAILED, { message: invalid, stack: "", type: "InvalidResult", retryable: false });
        }
        if (exceedsBytes(json, this.d.config.maxPayloadBytes)) {
          worker.failedTotal++;
          return this.fail(attempt, current, now, AttemptOutcome.FAILED, {
            message: `${overLimit("the result is", Buffer.byteLength(json), this.d.config.maxPayloadBytes)} (fw-server --max-payload)`,
            stack: "", type: "ResultTooLarge", retryable: false,
          });
        }
        worker.succeededTotal++;
        this.d.store.endAttempt(attempt, AttemptOutcome.SUCCEEDED, now);
        if (current) this.d.lifecycle.finish(task, TaskState.SUCCEEDED, now, { resultJson: json });
        return undefined;
      }
      case AttemptOutcome.FAILED:
      case AttemptOutcome.TIMED_OUT:
        worker.failedTotal++;
        return this.fail(attempt, current, now, result.outcome, errorData(result.error));
      default:
        if (task.state === TaskState.CANCELLED || !current) {
          this.d.store.endAttempt(attempt, AttemptOutcome.CANCELLED, now, errorData(result.error));
          return undefined;
        }
        // Aborted without a cancel request: the handler gave up, which is a failure.
        return this.fail(attempt, current, now, AttemptOutcome.FAILED, errorData(result.error));
    }
  }

  /** The worker hands an attempt back unfinished (draining): queue the task again at its place. */
  release(worker: WorkerSession, taskId: string, n: number, now: number): RejectedItem | undefined {
    const found = this.find(worker, taskId, n, now);
    if (!(found instanceof AttemptRecord)) return found;
    if (!found.isOpen) {
      worker.inflight.delete(found); // timed out by the control plane: its slot is free now
      return reject(taskId, n, Code.FailedPrecondition, `attempt ${n} of task ${taskId} is already over`);
    }
    worker.inflight.delete(found);
    this.d.store.endAttempt(found, AttemptOutcome.RELEASED, now);
    const task = found.task;
    if (task.state === TaskState.RUNNING && task.attempt === n) this.d.lifecycle.putBack(task);
    return undefined;
  }

  /**
   * After the worker echoed ping `echoed`, every assignment sent before that
   * ping has reached it; those still unacknowledged were dropped, so their
   * tasks go back to the queue.
   */
  expireUnacked(worker: WorkerSession, echoed: number, now: number): void {
    for (;;) {
      const attempt = worker.unacked.peek();
      if (attempt === undefined) return;
      if (attempt.ackedAt === 0 && worker.inflight.has(attempt)) {
        // The tag is the newest ping sent before the assignment: only an echo of a later one proves it arrived.
        if (worker.unacked.peekTag() >= echoed) return;
        worker.inflight.delete(attempt);
        if (attempt.isOpen) this.lose(attempt, now, "the worker received the assignment but did not acknowledge it");
      }
      worker.unacked.shift();
    }
  }

  /**
   * The worker (re)attached and said which attempts of this session it still
   * holds: those count as acknowledged; the session's other open attempts
   * never reached it (sent on a stream that broke, or before the control
   * plane restarted), so their tasks go back to the queue now.
   */
  reconcile(worker: WorkerSession, held: readonly AttemptRef[], now: number): void {
    const holds = new Map(held.map((ref) => [`${ref.taskId}#${ref.attempt}`, ref]));
    for (const attempt of [...worker.inflight]) {
      const key = `${attempt.task.id}#${attempt.number}`;
      if (holds.delete(key)) {
        if (attempt.ackedAt === 0 && attempt.isOpen) this.d.store.acknowledge(attempt, now);
        continue;
      }
      worker.inflight.delete(attempt);
      if (attempt.isOpen) this.lose(attempt, now, "the worker never received the assignment (it reattached without it)");
    }
    // Attempts it holds that this control plane never recorded (dispatched just before a crash):
    // adopted when the task is still waiting for exactly that attempt, else the worker stops them.
    for (const ref of holds.values()) {
      const task = this.d.store.get(ref.taskId, now);
      const waiting = task !== undefined && (task.state === TaskState.QUEUED || task.state === TaskState.SCHEDULED) && task.attempt === ref.attempt - 1;
      if (waiting) {
        const attempt = this.d.store.adopt(task, worker.id, worker.name, now);
        this.d.limits.adopt(task, now);
        this.d.store.acknowledge(attempt, now);
        worker.inflight.add(attempt);
        this.d.events.emit("task.dispatched", task, attempt);
      } else {
        worker.cancel(create(CancelSignalSchema, {
          taskId: ref.taskId, attempt: ref.attempt, reason: "the control plane restarted without a record of this attempt, and the task has moved on",
        }));
      }
    }
  }

  /** Gives up one attempt whose worker is gone (e.g. unknown after a restart): its task goes back to its place. */
  abandon(attempt: AttemptRecord, now: number, reason: string): void {
    this.lose(attempt, now, reason);
  }

  /** The dispatch stream closed: assignments not yet acknowledged may never have arrived. */
  requeueUnacked(worker: WorkerSession, now: number): void {
    for (let attempt = worker.unacked.shift(); attempt !== undefined; attempt = worker.unacked.shift()) {
      if (attempt.ackedAt > 0 || !worker.inflight.delete(attempt)) continue;
      if (attempt.isOpen) this.lose(attempt, now, "the dispatch stream closed before the worker acknowledged the assignment");
    }
  }

  /** The worker is gone: every attempt it held goes back to the queue at its place. */
  loseAll(worker: WorkerSession, now: number, reason: string): number {
    let lost = 0;
    for (const attempt of worker.inflight) {
      if (!attempt.isOpen) continue; // timed out by the control plane already
      this.lose(attempt, now, reason);
      lost++;
    }
    worker.inflight.clear();
    while (worker.unacked.shift() !== undefined); // nothing left to acknowledge
    this.d.stats.leaseExpiries += lost;
    return lost;
  }

  /**
   * Gives an attempt up. Every loss counts toward the task's losses in a row
   * (reset by any outcome): a handler that crashes its process before it can
   * even acknowledge must not go round forever.
   */
  private lose(attempt: AttemptRecord, now: number, reason: string): void {
    this.d.store.endAttempt(attempt, AttemptOutcome.LOST, now, { message: reason, stack: "", type: "WorkerLost", retryable: true });
    const task = attempt.task;
    if (task.state === TaskState.RUNNING && task.attempt === attempt.number) {
      const losses = this.d.store.countLoss(task);
      if (losses >= this.d.config.maxLosses) {
        this.d.lifecycle.finish(task, TaskState.FAILED, now, {
          error: {
            message: `the task's worker was lost ${losses} times in a row (last: ${reason}); it may be crashing its workers`,
            stack: "", type: "WorkerLost", retryable: false,
          },
        });
      } else {
        this.d.lifecycle.putBack(task);
      }
    }
    this.d.events.emit("attempt.lost", attempt, reason);
  }

  private fail(attempt: AttemptRecord, current: boolean, now: number, outcome: AttemptOutcome, error: TaskErrorData): undefined {
    this.d.store.endAttempt(attempt, outcome, now, error);
    if (current) this.d.lifecycle.attemptFailed(attempt.task, attempt, error, now);
    return undefined;
  }

  private find(worker: WorkerSession, taskId: string, n: number, now: number): AttemptRecord | RejectedItem {
    const task = this.d.store.get(taskId, now);
    if (task === undefined) return reject(taskId, n, Code.NotFound, `no task ${taskId} (unknown id, or its result expired)`);
    const attempt = task.attemptNumbered(n);
    if (attempt === undefined) return reject(taskId, n, Code.NotFound, `task ${taskId} has no attempt ${n}`);
    if (attempt.workerId !== worker.id) {
      return reject(taskId, n, Code.PermissionDenied, `attempt ${n} of task ${taskId} was given to another worker`);
    }
    return attempt;
  }
}

/**
 * Why a result cannot be stored, or undefined: it must be JSON that reads
 * back (a worker that does not speak it right must not break reads of the task).
 */
function resultProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return "the worker sent a result that is not valid JSON"; // reported by the caller as an InvalidResult failure
  }
  const problem = jsonLimitProblem(text);
  return problem === undefined ? undefined : `the result has ${problem}`;
}

/** Metadata of tasks submitted without any (never written to: encoders only read it). */
const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>;

const RESULT_OUTCOMES: ReadonlySet<AttemptOutcome> = new Set([
  AttemptOutcome.SUCCEEDED,
  AttemptOutcome.FAILED,
  AttemptOutcome.TIMED_OUT,
  AttemptOutcome.CANCELLED,
]);

function reject(taskId: string, attempt: number, code: Code, message: string): RejectedItem {
  return create(RejectedItemSchema, { taskId, attempt, status: create(ErrorStatusSchema, { code, message }) });
}

/** A worker's error as kept: its texts cut to TEXT_LIMITS (they stay with the task for the result TTL). */
function errorData(error: TaskError | undefined): TaskErrorData {
  if (error === undefined) return { message: "the handler failed without an error", stack: "", type: "Error", retryable: true };
  return {
    message: truncateText(error.message, TEXT_LIMITS.errorMessage),
    stack: truncateText(error.stack, TEXT_LIMITS.errorStack),
    type: truncateText(error.type, TEXT_LIMITS.errorType),
    retryable: error.retryable,
  };
}
