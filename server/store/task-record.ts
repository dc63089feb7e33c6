import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";

/** Why an attempt or task failed, as kept by the control plane. */
export interface TaskErrorData {
  message: string;
  stack: string;
  type: string;
  retryable: boolean;
}

/** A retry policy with every field resolved. */
export interface RetryPolicyData {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

/** What a running handler last said about its progress. */
export interface ProgressData {
  fraction: number;
  message: string;
  updatedAt: number;
}

/** Per-submission settings. Most submissions have none and share {@link NO_OPTIONS}. */
export interface SubmitOptions {
  readonly idempotencyKey?: string;
  /** Overrides of the task definition's retry policy (unset fields fall through). */
  readonly retry?: Partial<RetryPolicyData>;
  readonly timeoutMs?: number;
  readonly metadata?: Readonly<Record<string, string>>;
}

export const NO_OPTIONS: SubmitOptions = Object.freeze({});

/**
 * One dispatch of a task to one worker. Fields change only through the
 * store's operations (see {@link TaskRecord}).
 */
export class AttemptRecord {
  readonly ackedAt: number = 0;
  readonly finishedAt: number = 0;
  readonly outcome: AttemptOutcome = AttemptOutcome.UNSPECIFIED;
  readonly error: TaskErrorData | undefined = undefined;

  constructor(
    readonly task: TaskRecord,
    readonly number: number,
    readonly workerId: string,
    readonly workerName: string,
    readonly dispatchedAt: number,
    /** The series it belongs to (see TaskRecord.series). */
    readonly series: number = task.series,
  ) {}

  get isOpen(): boolean {
    return this.outcome === AttemptOutcome.UNSPECIFIED;
  }
}

/** One line a handler wrote with ctx.log(). */
export interface LogEntry {
  /** When the worker took it (ms since epoch). */
  at: number;
  attempt: number;
  text: string;
}

/**
 * The control plane's record of one task. Every field is read-only outside
 * the store: state changes are the store's operations (`TaskStore.insert`,
 * `startAttempt`, `finish`, …), which is what lets a durable store see every
 * write. The engine decides; the store applies and records.
 */
export class TaskRecord {
  readonly state: TaskState = TaskState.QUEUED;
  /** FIFO position within its priority; kept when re-queued after a lost worker. */
  readonly queueSeq: number = 0;
  /** The latest attempt's number (1-based); 0 before the first dispatch. */
  readonly attempt: number = 0;
  /** Failed attempts (FAILED / TIMED_OUT) in the current series; RetryTask resets it. */
  readonly failures: number = 0;
  /** The last attempt number before the current series (RetryTask starts a new series). */
  readonly seriesStart: number = 0;
  /** The current series of attempts: 1 for the first run, one more per RetryTask. */
  readonly series: number = 1;
  /** Attempts lost in a row (worker died or vanished); guards against poison tasks. */
  readonly losses: number = 0;
  readonly attempts: readonly AttemptRecord[] | undefined = undefined;
  readonly resultJson: string | undefined = undefined;
  readonly error: TaskErrorData | undefined = undefined;
  readonly progress: ProgressData | undefined = undefined;
  readonly startedAt: number = 0;
  readonly finishedAt: number = 0;
  /** For SCHEDULED tasks: when they become QUEUED. */
  readonly scheduledFor: number = 0;
  /** Tags this task's entry in the retention FIFO. */
  readonly finishSeq: number = 0;
  /** Set when the task left the store (result expired or evicted). */
  readonly evicted: boolean = false;
  /** Lines its handlers wrote with ctx.log(), oldest first (bounded: common/log-limits.ts). */
  readonly logs: readonly LogEntry[] | undefined = undefined;
  /** UTF-8 bytes of the logs' text. */
  readonly logBytes: number = 0;
  /** Lines dropped past the bounds (after the marker line). */
  readonly logsDropped: number = 0;
  /** UTF-8 bytes of argsJson (set by the store when the task enters it; admission control counts them). */
  readonly argsBytes: number = 0;
  /**
   * Where the task stands in the one structure that holds it while it
   * waits: the due-time heap while SCHEDULED, its queue while QUEUED (each
   * checks the entry is this task before acting on it). Lets a cancel remove
   * the entry at once, so nothing keeps a cancelled task alive.
   */
  readonly slot: number = -1;
  /** The value of its name's flow-limit key while queued ("" without a keyed limit); derived, not stored. */
  readonly laneKey: string = "";

  constructor(
    readonly id: string,
    readonly name: string,
    readonly priority: Priority,
    readonly argsJson: string,
    readonly createdAt: number,
    /** Creation order, for listings (newest first) and page tokens. */
    readonly order: number,
    readonly options: SubmitOptions,
  ) {}

  /** The latest attempt, if the task was ever dispatched. */
  get currentAttempt(): AttemptRecord | undefined {
    const attempts = this.attempts;
    return attempts === undefined ? undefined : attempts[attempts.length - 1];
  }

  /** The attempt with this number, if it exists. */
  attemptNumbered(n: number): AttemptRecord | undefined {
    const attempts = this.attempts;
    if (attempts === undefined) return undefined;
    // Attempts are numbered consecutively from 1, so the index is n - 1.
    const attempt = attempts[n - 1];
    return attempt !== undefined && attempt.number === n ? attempt : undefined;
  }
}
