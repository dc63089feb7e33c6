import { AttemptOutcome } from "../gen/fastworker/v1/task_pb.js";
import type { Assignment } from "../gen/fastworker/v1/worker_service_pb.js";
import { priorityName, type PriorityName } from "../common/priority.js";
import type { TaskContext } from "./task.js";
import type { ThreadRun } from "./thread-pool.js";

/** One attempt running in this worker. */
export class RunningAttempt {
  /** Set once the outcome was handed to the reporter. */
  reported = false;
  /** Set once the handler returned or threw. */
  settled = false;
  /** Why the attempt was aborted, if it was; the outcome to report for it. */
  abortOutcome: AttemptOutcome = AttemptOutcome.UNSPECIFIED;
  abortReason: Error | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  graceTimer: NodeJS.Timeout | undefined = undefined;
  /** Set when the handler runs in a task thread. */
  thread: ThreadRun | undefined = undefined;
  /** Set when its slot was written off (the handler ignored its abort past the grace). */
  zombie = false;
  /** Log lines and their bytes taken from the handler, and those dropped past the bounds (common/log-limits.ts). */
  logLines = 0;
  logBytes = 0;
  logDropped = 0;
  private controller: AbortController | undefined = undefined;

  constructor(
    readonly assignment: Assignment,
    /** The worker session the assignment came under; its outcome is reported under it. */
    readonly session: string,
    readonly startedAt: number,
  ) {
    this.key = attemptKey(assignment.taskId, assignment.attempt);
  }

  /** Its key in the executor's map (task id and attempt). */
  readonly key: string;

  /**
   * The handler's AbortSignal, made on first use: most handlers never look
   * at it, and an AbortController per task costs more than the task.
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Aborts the handler's signal; the first reason wins. Returns false if already aborted or done. */
  abort(reason: Error, outcome: AttemptOutcome): boolean {
    if (this.settled || this.abortReason !== undefined) return false;
    this.abortReason = reason;
    this.abortOutcome = outcome;
    this.controller?.abort(reason);
    this.thread?.abort(reason);
    return true;
  }

  clearTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.timer = this.graceTimer = undefined;
  }
}

/** The key of an attempt in maps: task id and attempt number. */
export function attemptKey(taskId: string, attempt: number): string {
  return `${taskId}/${attempt}`;
}

/** The TaskContext a handler receives, backed by its running attempt. */
export class AttemptContext implements TaskContext {
  constructor(
    private readonly run: RunningAttempt,
    private readonly onProgress: (run: RunningAttempt, fraction: number, message: string) => void,
    private readonly onLog: (run: RunningAttempt, text: string) => void,
  ) {}

  get taskId(): string {
    return this.run.assignment.taskId;
  }

  get name(): string {
    return this.run.assignment.task;
  }

  get attempt(): number {
    return this.run.assignment.attempt;
  }

  get maxAttempts(): number {
    return this.run.assignment.maxAttempts;
  }

  get priority(): PriorityName {
    return priorityName(this.run.assignment.priority);
  }

  get signal(): AbortSignal {
    return this.run.signal;
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.run.assignment.metadata;
  }

  progress(fraction: number, message = ""): void {
    if (!Number.isFinite(fraction)) throw new TypeError("progress(fraction): fraction must be a number between 0 and 1");
    if (this.run.reported) return;
    this.onProgress(this.run, Math.min(1, Math.max(0, fraction)), String(message));
  }

  log(line: string): void {
    if (this.run.reported) return;
    this.onLog(this.run, String(line));
  }
}
