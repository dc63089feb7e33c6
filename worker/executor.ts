import { create } from "@bufbuild/protobuf";
import { AttemptOutcome, TaskErrorSchema, type TaskError } from "../gen/fastworker/v1/task_pb.js";
import type { Assignment, AttemptRef } from "../gen/fastworker/v1/worker_service_pb.js";
import { overLimit } from "../common/format-bytes.js";
import { jsonLimitProblem } from "../common/json-limits.js";
import { exceedsBytes } from "../common/split-by-bytes.js";
import type { Logger } from "../common/logger.js";
import { priorityName } from "../common/priority.js";
import { traceThreadAttempt } from "./consumer-span.js";
import { AttemptContext, attemptKey, RunningAttempt } from "./running-attempt.js";
import { taskModuleOf } from "./loader.js";
import type { TaskDefinition } from "./task.js";
import { ThreadPool } from "./thread-pool.js";
import { TaskCancelledError } from "./task-cancelled-error.js";
import { TaskTimeoutError } from "./task-timeout-error.js";
import { WorkerShutdownError } from "./worker-shutdown-error.js";

/** Where the executor sends what happens to attempts (the reporter). */
export interface AttemptSink {
  ack(run: RunningAttempt): void;
  finish(run: RunningAttempt, outcome: AttemptOutcome, resultJson: string, error: TaskError | undefined): void;
  progress(run: RunningAttempt, fraction: number, message: string): void;
  /** A line the handler logged (ctx.log). */
  log(run: RunningAttempt, text: string): void;
  release(run: RunningAttempt): void;
  /** Capacity or draining changed: send a heartbeat soon. */
  heartbeatSoon(): void;
}

/** Options for {@link Executor}. */
export interface ExecutorOptions {
  tasks: ReadonlyMap<string, TaskDefinition>;
  concurrency: number;
  /** How long a handler may run on after its signal aborted before its slot is written off. */
  abortGraceMs: number;
  sink: AttemptSink;
  logger: Logger;
  /** The largest result the control plane keeps; larger ones fail here instead of being sent. */
  maxResultBytes(): number;
}

/**
 * Runs assignments: calls handlers with their args and context, enforces
 * timeouts, delivers cancellation, and reports each outcome once.
 *
 * Handlers run on this thread, or in a task thread for tasks defined with
 * `isolation: "thread"`. A handler that ignores its aborted signal for
 * abortGraceMs is reported as failed either way; a thread is then terminated,
 * while on this thread its slot is written off (the worker's capacity shrinks
 * by one until the handler returns). A stuck handler never costs the task's
 * outcome.
 */
export class Executor {
  readonly running = new Map<string, RunningAttempt>();
  /** Handlers past their abort grace that still run. */
  zombies = 0;
  draining = false;
  private idleWaiters: (() => void)[] = [];
  private threads: ThreadPool | undefined;

  constructor(private readonly options: ExecutorOptions) {}

  /**
   * How many attempts a session may hold now: the concurrency, less slots
   * written off, less slots held by attempts of other (earlier) sessions that
   * still run here after a reconnect. 0 while draining.
   */
  /** Attempts of a session still running here (their outcomes are not reported yet). */
  heldBy(session: string): AttemptRef[] {
    const refs: AttemptRef[] = [];
    for (const run of this.running.values()) {
      if (run.session === session && !run.reported) {
        refs.push({ $typeName: "fastworker.v1.AttemptRef", taskId: run.assignment.taskId, attempt: run.assignment.attempt });
      }
    }
    return refs;
  }

  capacityFor(session: string | undefined): number {
    if (this.draining) return 0;
    let elsewhere = 0;
    for (const run of this.running.values()) if (run.session !== session) elsewhere++;
    return Math.max(0, this.options.concurrency - this.zombies - elsewhere);
  }

  /** Starts an assignment. Returns at once; the outcome goes to the sink. */
  start(assignment: Assignment, session: string): void {
    const run = new RunningAttempt(assignment, session, Date.now());
    const sink = this.options.sink;
    if (this.draining) {
      sink.release(run);
      return;
    }
    const definition = this.options.tasks.get(assignment.task);
    if (definition === undefined) {
      run.reported = true;
      sink.finish(run, AttemptOutcome.FAILED, "", taskError(`this worker does not serve "${assignment.task}"`, "UnknownTask", false));
      return;
    }
    let args: unknown;
    try {
      args = assignment.argsJson === "" ? null : JSON.parse(assignment.argsJson);
    } catch (err) {
      run.reported = true;
      sink.finish(run, AttemptOutcome.FAILED, "", taskError(`the args are not valid JSON: ${(err as Error).message}`, "InvalidArgs", false));
      return;
    }
    sink.ack(run);
    this.running.set(run.key, run);
    if (assignment.timeoutSeconds > 0) {
      const timeoutMs = assignment.timeoutSeconds * 1000;
      run.timer = setTimeout(() => this.abort(run, new TaskTimeoutError(timeoutMs), AttemptOutcome.TIMED_OUT), timeoutMs);
    }
    let value: unknown;
    if (definition.options.isolation === "thread") {
      const modulePath = taskModuleOf(definition);
      if (modulePath === undefined) {
        this.settle(run, new Error(`task "${assignment.task}" runs in a thread, which needs it loaded from a task module file (fw-worker --tasks)`), false);
        return;
      }
      this.threads ??= new ThreadPool((err) => this.options.logger.warn({ err }, "a task thread raised an error after its task finished"));
      run.thread = this.threads.run(
        {
          modulePath,
          name: assignment.task,
          args,
          taskId: assignment.taskId,
          attempt: assignment.attempt,
          maxAttempts: assignment.maxAttempts,
          priority: priorityName(assignment.priority),
          metadata: { ...assignment.metadata },
        },
        (fraction, message) => !run.reported && sink.progress(run, fraction, message),
        (text) => !run.reported && sink.log(run, text),
      );
      value = traceThreadAttempt(assignment, run.thread.result);
    } else {
      try {
        value = definition.handler(args, new AttemptContext(run, (r, f, m) => sink.progress(r, f, m), (r, text) => sink.log(r, text)));
      } catch (err) {
        this.settle(run, err, false);
        return;
      }
    }
    if (isPromiseLike(value)) {
      value.then(
        (result) => this.settle(run, result, true),
        (err: unknown) => this.settle(run, err, false),
      );
    } else {
      this.settle(run, value, true);
    }
  }

  /** Delivers a cancel signal to a running attempt. */
  cancel(taskId: string, attempt: number, reason: string): void {
    const run = this.running.get(attemptKey(taskId, attempt));
    if (run !== undefined) this.abort(run, new TaskCancelledError(reason || "cancelled by request"), AttemptOutcome.CANCELLED);
  }

  /** Resolves when nothing runs (zombies excluded: their outcome is already reported). */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Aborts everything still running and hands it back to the control plane (drain deadline). */
  releaseAll(): number {
    const runs = [...this.running.values()];
    for (const run of runs) {
      run.abort(new WorkerShutdownError(), AttemptOutcome.RELEASED);
      run.abortOutcome = AttemptOutcome.RELEASED;
      run.clearTimers();
      run.thread?.terminate();
      run.reported = true;
      this.running.delete(run.key);
      this.options.sink.release(run);
    }
    this.notifyIdle();
    return runs.length;
  }

  /** Terminates task threads (after a drain). */
  async close(): Promise<void> {
    await this.threads?.close();
  }

  private abort(run: RunningAttempt, reason: Error, outcome: AttemptOutcome): void {
    if (!run.abort(reason, outcome)) return;
    if (run.timer !== undefined) clearTimeout(run.timer);
    run.timer = undefined;
    run.graceTimer = setTimeout(() => {
      if (run.settled || run.reported) return;
      run.reported = true;
      this.running.delete(run.key);
      const grace = this.options.abortGraceMs / 1000;
      const where = { taskId: run.assignment.taskId, attempt: run.assignment.attempt, task: run.assignment.task };
      let consequence: string;
      if (run.thread !== undefined) {
        // A thread can be stopped for real: terminate it; the slot is free again.
        run.thread.terminate();
        consequence = "so its thread was terminated";
        this.options.logger.warn(where, `handler ignored its abort signal for ${grace}s; terminated its thread`);
      } else {
        // On the main thread nothing can stop it: write its slot off until it returns.
        run.zombie = true;
        this.zombies++;
        consequence = "and still holds its slot";
        this.options.logger.warn(where, `handler ignored its abort signal for ${grace}s; reporting the attempt and writing off its slot until it returns`);
      }
      this.options.sink.finish(run, outcome, "", taskError(
        `${reason.message}; the handler did not stop within ${grace}s of its abort signal, ${consequence}`, reason.name, outcome !== AttemptOutcome.CANCELLED,
      ));
      this.options.sink.heartbeatSoon();
      this.notifyIdle();
    }, this.options.abortGraceMs);
  }

  private settle(run: RunningAttempt, value: unknown, ok: boolean): void {
    if (run.settled) return;
    run.settled = true;
    run.clearTimers();
    if (run.reported) {
      // Reported at its abort grace or handed back at shutdown: only a written-off slot comes back.
      if (run.zombie) {
        run.zombie = false;
        this.zombies--;
        this.options.sink.heartbeatSoon();
      }
      return;
    }
    run.reported = true;
    this.running.delete(run.key);
    const sink = this.options.sink;
    if (run.abortReason !== undefined) {
      const reason = run.abortReason;
      sink.finish(run, run.abortOutcome, "", taskError(reason.message, reason.name, run.abortOutcome !== AttemptOutcome.CANCELLED));
    } else if (ok) {
      let json: string;
      try {
        json = JSON.stringify(value) ?? "null";
      } catch (err) {
        sink.finish(run, AttemptOutcome.FAILED, "", taskError(`the handler's result cannot be sent as JSON: ${(err as Error).message}`, "InvalidResult", false));
        this.notifyIdle();
        return;
      }
      const limit = this.options.maxResultBytes();
      const problem = jsonLimitProblem(json);
      if (problem !== undefined) {
        sink.finish(run, AttemptOutcome.FAILED, "", taskError(`the handler's result has ${problem}`, "InvalidResult", false));
      } else if (exceedsBytes(json, limit)) {
        sink.finish(run, AttemptOutcome.FAILED, "", taskError(
          `${overLimit("the result is", Buffer.byteLength(json), limit)} (fw-server --max-payload); return a reference to large data instead`,
          "ResultTooLarge", false,
        ));
      } else {
        sink.finish(run, AttemptOutcome.SUCCEEDED, json, undefined);
      }
    } else {
      sink.finish(run, AttemptOutcome.FAILED, "", errorFrom(value));
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.running.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

function taskError(message: string, type: string, retryable: boolean, stack = ""): TaskError {
  return create(TaskErrorSchema, { message, type, retryable, stack });
}

/** A thrown value as a TaskError; NonRetryableError (by name, across package copies) is not retryable. */
export function errorFrom(thrown: unknown): TaskError {
  if (thrown instanceof Error) {
    return taskError(thrown.message, thrown.name, thrown.name !== "NonRetryableError", thrown.stack ?? "");
  }
  return taskError(typeof thrown === "string" ? thrown : `non-error thrown: ${safeString(thrown)}`, "Error", true);
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // not JSON-serialisable: fall back to its string form
  }
}
