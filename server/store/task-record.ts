import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskIds } from "./task-ids.js";

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
 * What a task has once it runs: its attempts, outcome and counters. A queued
 * task has none of it, so it lives apart ({@link TaskRecord.run}), made the
 * first time one of these fields is written: a million queued tasks carry
 * only what dispatch needs. Fields change only through the store.
 */
export class TaskRun {
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
  /** The value of its name's flow-limit key while queued ("" without a keyed limit); derived, not stored. */
  readonly laneKey: string = "";
  /** Lines its handlers wrote with ctx.log(), oldest first (bounded: common/log-limits.ts). */
  readonly logs: readonly LogEntry[] | undefined = undefined;
  /** UTF-8 bytes of the logs' text. */
  readonly logBytes: number = 0;
  /** Lines dropped past the bounds (after the marker line). */
  readonly logsDropped: number = 0;
}

/** The fields of a {@link TaskRun} before it exists. */
const NO_RUN: TaskRun = Object.freeze(new TaskRun());

/**
 * Timestamps are kept relative to this (ms), so the usual ones are small
 * integers V8 stores inside the record (a Smi) instead of a boxed double.
 */
const TIME_BASE = Date.now();

// TaskRecord.bits: the state, the priority and flags in the low byte, the args' UTF-8 bytes above it.
const STATE_MASK = 0b111;
const PRIORITY_SHIFT = 3;
const PRIORITY_MASK = 0b111 << PRIORITY_SHIFT;
/** Set when the task left the store (result expired or evicted). */
export const EVICTED_BIT = 1 << 6;
/** createdAt is kept as it is (it did not survive the trip through TIME_BASE exactly). */
const CREATED_ABSOLUTE_BIT = 1 << 7;
/** bits = flags + argsBytes × ARGS_UNIT: a Smi for args up to 8 MiB, and exact (a double) beyond. */
export const ARGS_UNIT = 256;

/**
 * The control plane's record of one task. Every field is read-only outside
 * the store: state changes are the store's operations (`TaskStore.insert`,
 * `startAttempt`, `finish`, …), which is what lets a durable store see every
 * write. The engine decides; the store applies and records.
 *
 * Memory: a record is what a queued task costs, so it holds eleven fields
 * (8 bytes each) and only small integers where it can: state, priority,
 * flags and the args' size share one ({@link bits}), the creation time is
 * relative to the process start, the id of a task made in this run is
 * spelled from its order when read, and everything a run adds is in
 * {@link run}. The getters below read them as plain fields.
 */
export class TaskRecord {
  /** FIFO position within its priority; kept when re-queued after a lost worker. */
  readonly queueSeq: number = 0;
  /**
   * Where the task stands in the one structure that holds it while it
   * waits: the due-time heap while SCHEDULED, its queue while QUEUED (each
   * checks the entry is this task before acting on it). Lets a cancel remove
   * the entry at once, so nothing keeps a cancelled task alive.
   */
  readonly slot: number = -1;
  /** State, priority and flags (low byte) and the args' UTF-8 bytes (× ARGS_UNIT): see the getters. */
  readonly bits: number;
  /** Creation time in ms, relative to TIME_BASE unless CREATED_ABSOLUTE_BIT is set. */
  readonly created: number;
  /** What the task has once it runs; undefined until then. */
  readonly run: TaskRun | undefined = undefined;
  /**
   * Who waits for this task to end, kept by the engine's Waiters (so
   * following a task costs a field, not a map entry). Not the task's state:
   * never written to the log, and the one field the store does not own.
   */
  waiting: unknown = undefined;

  constructor(
    /**
     * The id as a string (a task from the log, or made by a test), or the
     * ids of this run, which spell it from {@link order}: see TaskIds.
     */
    readonly idSource: string | TaskIds,
    readonly name: string,
    priority: Priority,
    readonly argsJson: string,
    createdAt: number,
    /** Creation order, for listings (newest first) and page tokens. */
    readonly order: number,
    readonly options: SubmitOptions,
  ) {
    const relative = createdAt - TIME_BASE;
    const exact = relative + TIME_BASE === createdAt;
    this.created = exact ? relative : createdAt;
    this.bits = TaskState.QUEUED | (priority << PRIORITY_SHIFT) | (exact ? 0 : CREATED_ABSOLUTE_BIT);
  }

  get id(): string {
    const source = this.idSource;
    return typeof source === "string" ? source : source.format(this.order);
  }

  get state(): TaskState {
    return this.bits & STATE_MASK;
  }

  get priority(): Priority {
    return (this.bits & PRIORITY_MASK) >> PRIORITY_SHIFT;
  }

  /** Set when the task left the store (result expired or evicted). */
  get evicted(): boolean {
    return (this.bits & EVICTED_BIT) !== 0;
  }

  /** UTF-8 bytes of argsJson (set by the store when the task enters it; admission control counts them). */
  get argsBytes(): number {
    return Math.floor(this.bits / ARGS_UNIT);
  }

  get createdAt(): number {
    return (this.bits & CREATED_ABSOLUTE_BIT) === 0 ? this.created + TIME_BASE : this.created;
  }

  /** The latest attempt's number (1-based); 0 before the first dispatch. */
  get attempt(): number {
    return (this.run ?? NO_RUN).attempt;
  }

  /** Failed attempts (FAILED / TIMED_OUT) in the current series; RetryTask resets it. */
  get failures(): number {
    return (this.run ?? NO_RUN).failures;
  }

  /** The last attempt number before the current series (RetryTask starts a new series). */
  get seriesStart(): number {
    return (this.run ?? NO_RUN).seriesStart;
  }

  /** The current series of attempts: 1 for the first run, one more per RetryTask. */
  get series(): number {
    return (this.run ?? NO_RUN).series;
  }

  /** Attempts lost in a row (worker died or vanished); guards against poison tasks. */
  get losses(): number {
    return (this.run ?? NO_RUN).losses;
  }

  get attempts(): readonly AttemptRecord[] | undefined {
    return this.run?.attempts;
  }

  get resultJson(): string | undefined {
    return this.run?.resultJson;
  }

  get error(): TaskErrorData | undefined {
    return this.run?.error;
  }

  get progress(): ProgressData | undefined {
    return this.run?.progress;
  }

  get startedAt(): number {
    return (this.run ?? NO_RUN).startedAt;
  }

  get finishedAt(): number {
    return (this.run ?? NO_RUN).finishedAt;
  }

  /** For SCHEDULED tasks: when they become QUEUED. */
  get scheduledFor(): number {
    return (this.run ?? NO_RUN).scheduledFor;
  }

  /** Tags this task's entry in the retention FIFO. */
  get finishSeq(): number {
    return (this.run ?? NO_RUN).finishSeq;
  }

  /** The value of its name's flow-limit key while queued ("" without a keyed limit); derived, not stored. */
  get laneKey(): string {
    return (this.run ?? NO_RUN).laneKey;
  }

  /** Lines its handlers wrote with ctx.log(), oldest first. */
  get logs(): readonly LogEntry[] | undefined {
    return this.run?.logs;
  }

  /** UTF-8 bytes of the logs' text. */
  get logBytes(): number {
    return (this.run ?? NO_RUN).logBytes;
  }

  /** Lines dropped past the bounds (after the marker line). */
  get logsDropped(): number {
    return (this.run ?? NO_RUN).logsDropped;
  }

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
