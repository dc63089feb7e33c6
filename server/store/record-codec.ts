import type { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { LOG_CUT_MARKER, utf8Bytes } from "../../common/log-limits.js";
import { runOf, setState, writable, writableAttempt } from "./internal/writable.js";
import type { LogValue } from "./state-log.js";
import {
  AttemptRecord,
  NO_OPTIONS,
  TaskRecord,
  type ProgressData,
  type RetryPolicyData,
  type SubmitOptions,
  type TaskErrorData,
} from "./task-record.js";

/**
 * How a task record is written to the log: a positional array (compact, and
 * cheap to encode on every state change), versioned by its first element.
 * Small args ride inside the record (one write per change: each put costs
 * about 3 µs of LMDB work, far more than the bytes); args above
 * {@link INLINE_ARGS_MAX} travel separately (collection "args", written once)
 * so a state change never rewrites a large payload.
 */
const VERSION = 1;

/** Args up to this many UTF-16 units are kept inside the task record. */
export const INLINE_ARGS_MAX = 1024;

/** Whether a task's args are kept inside its record (else in the "args" collection). */
export function argsInline(task: TaskRecord): boolean {
  return task.argsJson.length <= INLINE_ARGS_MAX;
}

/** The log value of a task's record (with its args when they are small). */
export function encodeTask(task: TaskRecord): LogValue[] {
  const value: LogValue[] = [
    VERSION,
    task.name,
    task.priority,
    task.createdAt,
    task.order,
    task.options === NO_OPTIONS ? null : encodeOptions(task.options),
    task.state,
    task.queueSeq,
    task.attempt,
    task.failures,
    task.seriesStart,
    task.losses,
    task.resultJson ?? null,
    encodeError(task.error),
    task.progress === undefined ? null : [task.progress.fraction, task.progress.message, task.progress.updatedAt],
    task.startedAt,
    task.finishedAt,
    task.scheduledFor,
    task.finishSeq,
    task.attempts === undefined ? null : task.attempts.map((a) => encodeAttempt(a, task.series)),
    argsInline(task) ? task.argsJson : null,
  ];
  // Fields added later go at the end, and only when they say something: a record without them is
  // written exactly as before (and read with their defaults: series 1, no logs).
  if (task.series !== 1 || task.logs !== undefined || task.logsDropped !== 0) {
    value.push(task.series, task.logs === undefined ? null : task.logs.map((l) => [l.at, l.attempt, l.text]), task.logsDropped);
  }
  return value;
}

/** Rebuilds a task record from its log value (and its args, when they are kept apart); throws on a record it cannot read. */
export function decodeTask(id: string, value: LogValue, separateArgs: (id: string) => string | undefined): TaskRecord {
  if (!Array.isArray(value) || value[0] !== VERSION) {
    throw new Error(`task ${id}: unknown record format ${JSON.stringify(Array.isArray(value) ? value[0] : typeof value)}`);
  }
  const v = value as readonly LogValue[];
  const argsJson = (v[20] as string | null) ?? separateArgs(id);
  if (argsJson === undefined) throw new Error(`task ${id} has no args: the state is damaged`);
  const task = new TaskRecord(
    id,
    v[1] as string,
    v[2] as Priority,
    argsJson,
    v[3] as number,
    v[4] as number,
    v[5] === null ? NO_OPTIONS : decodeOptions(v[5]),
  );
  setState(task, v[6] as TaskState);
  writable(task).queueSeq = v[7] as number;
  // A task that never ran (queued, or waiting for its first time) gets no TaskRun: it costs memory per task.
  const progress = v[14] as readonly [number, string, number] | null;
  const attempts = v[19] as readonly LogValue[] | null;
  const ran = v[8] !== 0 || v[9] !== 0 || v[10] !== 0 || v[11] !== 0 || v[12] !== null || v[13] !== null || progress !== null ||
    v[15] !== 0 || v[16] !== 0 || v[17] !== 0 || v[18] !== 0 || attempts !== null || v.length > 21;
  if (!ran) return task;
  const w = runOf(task);
  w.attempt = v[8] as number;
  w.failures = v[9] as number;
  w.seriesStart = v[10] as number;
  // Records written before series were counted: a task retried by hand is in its second series at least.
  w.series = (v[21] as number | undefined) ?? (task.seriesStart > 0 ? 2 : 1);
  w.losses = v[11] as number;
  w.resultJson = v[12] === null ? undefined : (v[12] as string);
  w.error = decodeError(v[13]);
  w.progress = progress === null ? undefined : ({ fraction: progress[0], message: progress[1], updatedAt: progress[2] } satisfies ProgressData);
  w.startedAt = v[15] as number;
  w.finishedAt = v[16] as number;
  w.scheduledFor = v[17] as number;
  w.finishSeq = v[18] as number;
  w.attempts = attempts === null ? undefined : attempts.map((a) => decodeAttempt(task, a));
  // Records written before task logs existed have neither field.
  const logs = (v[22] as readonly (readonly [number, number, string])[] | null | undefined) ?? null;
  if (logs !== null) {
    w.logs = logs.map(([at, attempt, text]) => ({ at, attempt, text }));
    w.logBytes = w.logs.reduce((sum, l) => sum + (l.text === LOG_CUT_MARKER ? 0 : utf8Bytes(l.text)), 0);
  }
  w.logsDropped = (v[23] as number | undefined) ?? 0;
  return task;
}

function encodeOptions(options: SubmitOptions): LogValue {
  const out: Record<string, LogValue> = {};
  if (options.idempotencyKey !== undefined) out.k = options.idempotencyKey;
  if (options.retry !== undefined) out.r = options.retry as Record<string, number>;
  if (options.timeoutMs !== undefined) out.t = options.timeoutMs;
  if (options.metadata !== undefined) out.m = options.metadata;
  return out;
}

function decodeOptions(value: LogValue): SubmitOptions {
  const o = value as { k?: string; r?: Partial<RetryPolicyData>; t?: number; m?: Record<string, string> };
  return {
    ...(o.k !== undefined ? { idempotencyKey: o.k } : {}),
    ...(o.r !== undefined ? { retry: o.r } : {}),
    ...(o.t !== undefined ? { timeoutMs: o.t } : {}),
    ...(o.m !== undefined ? { metadata: o.m } : {}),
  };
}

function encodeError(error: TaskErrorData | undefined): LogValue {
  return error === undefined ? null : [error.message, error.stack, error.type, error.retryable];
}

function decodeError(value: LogValue): TaskErrorData | undefined {
  if (value === null) return undefined;
  const e = value as readonly [string, string, string, boolean];
  return { message: e[0], stack: e[1], type: e[2], retryable: e[3] };
}

function encodeAttempt(a: AttemptRecord, taskSeries: number): LogValue {
  const value: LogValue[] = [a.number, a.workerId, a.workerName, a.dispatchedAt, a.ackedAt, a.finishedAt, a.outcome, encodeError(a.error)];
  // An attempt's series is written once the task has had more than one (read back as 1 without it).
  if (taskSeries !== 1) value.push(a.series);
  return value;
}

function decodeAttempt(task: TaskRecord, value: LogValue): AttemptRecord {
  const a = value as readonly LogValue[];
  const number = a[0] as number;
  const series = (a[8] as number | undefined) ?? (number > task.seriesStart ? task.series : 1);
  const attempt = new AttemptRecord(task, number, a[1] as string, a[2] as string, a[3] as number, series);
  const w = writableAttempt(attempt);
  w.ackedAt = a[4] as number;
  w.finishedAt = a[5] as number;
  w.outcome = a[6] as AttemptOutcome;
  w.error = decodeError(a[7]);
  return attempt;
}
