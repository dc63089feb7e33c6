import type { JsonValue } from "@bufbuild/protobuf";
import type { Stats, TaskNameStats, WorkerInfo as WorkerInfoMessage } from "../gen/fastworker/v1/admin_service_pb.js";
import { WorkerState } from "../gen/fastworker/v1/admin_service_pb.js";
import { AttemptOutcome, type Task, type TaskError } from "../gen/fastworker/v1/task_pb.js";
import { valueToJson } from "../common/json.js";
import { priorityName, type PriorityName } from "../common/priority.js";
import { taskStateName, type TaskStateName } from "../common/task-state.js";
import { durationToMs, timestampToMs } from "../common/time.js";

/** Why a task or attempt failed. */
export interface TaskErrorInfo {
  message: string;
  /** The handler's stack trace, when there was one. */
  stack?: string;
  /** The error's class name, e.g. "TypeError". */
  type: string;
  retryable: boolean;
}

/** One attempt of a task. */
export interface AttemptInfo {
  number: number;
  workerId: string;
  workerName: string;
  /** "running", "succeeded", "failed", "timed_out", "cancelled", "lost" or "released". */
  outcome: string;
  dispatchedAt?: Date;
  ackedAt?: Date;
  finishedAt?: Date;
  error?: TaskErrorInfo;
  /** The series it belongs to: 1 for the first run, one more per retry by hand (0 from an older control plane). */
  series: number;
}

/** What the control plane knows about a task, as plain values. */
export interface TaskInfo {
  id: string;
  name: string;
  state: TaskStateName;
  priority: PriorityName;
  /** Present on single-task answers (not in listings). */
  args?: JsonValue;
  result?: JsonValue;
  error?: TaskErrorInfo;
  /** Dispatches in all, retries and redeliveries included: the latest attempt's number. */
  attempt: number;
  /** Attempts allowed per series. */
  maxAttempts: number;
  /** The current series: 1 for the first run, one more per retry by hand (0 from an older control plane). */
  series: number;
  /** Attempts of the current series that count toward maxAttempts (lost or handed-back ones do not). */
  seriesAttempt: number;
  attempts: AttemptInfo[];
  workerId?: string;
  workerName?: string;
  idempotencyKey?: string;
  createdAt?: Date;
  scheduledFor?: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** Why the task is where it is, in a sentence. */
  statusMessage: string;
  progress?: { fraction: number; message: string; updatedAt?: Date };
  metadata: Record<string, string>;
}

/** A worker as listings show it. */
export interface WorkerInfo {
  id: string;
  name: string;
  host: string;
  pid: number;
  tasks: string[];
  concurrency: number;
  capacity: number;
  inFlight: number;
  /** "active", "draining", "disconnected" or "lost". */
  state: string;
  succeeded: number;
  failed: number;
  /** Tasks finished per second over the last 10 seconds. */
  rate: number;
  connectedAt?: Date;
  lastHeartbeatAt?: Date;
  version: string;
}

/** Control-plane statistics as plain numbers. */
export interface StatsInfo {
  queued: Record<PriorityName, number>;
  scheduled: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  totals: { submitted: number; succeeded: number; failed: number; cancelled: number; retried: number; lateResults: number; leaseExpiries: number };
  /** Tasks finished per second over `recent.windowMs` (the last 10 s). */
  throughput: number;
  /** Failed / finished over `recent.windowMs`. */
  failureRate: number;
  /** The counts behind the two rates, and the time they cover. */
  recent: { finished: number; failed: number; windowMs: number };
  workers: number;
  startedAt?: Date;
  version: string;
}

const date = (ms: number): Date | undefined => (ms ? new Date(ms) : undefined);

/** A TaskError message as plain values. */
export function errorInfo(error: TaskError): TaskErrorInfo {
  return { message: error.message, ...(error.stack ? { stack: error.stack } : {}), type: error.type, retryable: error.retryable };
}

/** A Task message as plain values. */
export function taskInfo(task: Task): TaskInfo {
  return {
    id: task.id,
    name: task.name,
    state: taskStateName(task.state),
    priority: priorityName(task.priority),
    ...(task.args !== undefined ? { args: valueToJson(task.args) } : {}),
    ...(task.result !== undefined ? { result: valueToJson(task.result) } : {}),
    ...(task.error !== undefined ? { error: errorInfo(task.error) } : {}),
    attempt: task.attempt,
    maxAttempts: task.maxAttempts,
    series: task.series,
    seriesAttempt: task.seriesAttempt,
    attempts: task.attempts.map((a) => ({
      number: a.number,
      workerId: a.workerId,
      workerName: a.workerName,
      outcome: a.outcome === AttemptOutcome.UNSPECIFIED ? "running" : AttemptOutcome[a.outcome]!.toLowerCase(),
      dispatchedAt: date(timestampToMs(a.dispatchedAt)),
      ackedAt: date(timestampToMs(a.ackedAt)),
      finishedAt: date(timestampToMs(a.finishedAt)),
      ...(a.error !== undefined ? { error: errorInfo(a.error) } : {}),
      series: a.series,
    })),
    ...(task.workerId ? { workerId: task.workerId, workerName: task.workerName } : {}),
    ...(task.idempotencyKey ? { idempotencyKey: task.idempotencyKey } : {}),
    createdAt: date(timestampToMs(task.createdAt)),
    scheduledFor: date(timestampToMs(task.scheduledFor)),
    startedAt: date(timestampToMs(task.startedAt)),
    finishedAt: date(timestampToMs(task.finishedAt)),
    statusMessage: task.statusMessage,
    ...(task.progress !== undefined
      ? { progress: { fraction: task.progress.fraction, message: task.progress.message, updatedAt: date(timestampToMs(task.progress.updatedAt)) } }
      : {}),
    metadata: { ...task.metadata },
  };
}

/** A WorkerInfo message as plain values. */
export function workerInfo(w: WorkerInfoMessage): WorkerInfo {
  return {
    id: w.id,
    name: w.name,
    host: w.host,
    pid: w.pid,
    tasks: [...w.tasks],
    concurrency: w.concurrency,
    capacity: w.capacity,
    inFlight: w.inFlight,
    state: (WorkerState[w.state] ?? "unspecified").toLowerCase(),
    succeeded: Number(w.succeededTotal),
    failed: Number(w.failedTotal),
    rate: w.rate,
    connectedAt: date(timestampToMs(w.connectedAt)),
    lastHeartbeatAt: date(timestampToMs(w.lastHeartbeatAt)),
    version: w.version,
  };
}

/** One task name's row of ListTaskNames: its tasks per state, who serves it, whether it is paused, its run times. */
export interface TaskNameInfo {
  name: string;
  queued: number;
  scheduled: number;
  running: number;
  /** Final states count the tasks still kept (results expire). */
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Connected workers that serve the name; 0 with tasks waiting means nothing can run them. */
  workers: number;
  paused: boolean;
  pausedAt?: Date;
  /** Run time of recent attempts (dispatch to outcome), when some ended. */
  runTime?: { p50Ms: number; p95Ms: number; samples: number };
}

/** A TaskNameStats message as plain values. */
export function taskNameInfo(n: TaskNameStats): TaskNameInfo {
  return {
    name: n.name,
    queued: Number(n.queued),
    scheduled: Number(n.scheduled),
    running: Number(n.running),
    succeeded: Number(n.succeeded),
    failed: Number(n.failed),
    cancelled: Number(n.cancelled),
    workers: n.workers,
    paused: n.paused,
    ...(n.pausedAt ? { pausedAt: date(timestampToMs(n.pausedAt)) } : {}),
    ...(n.runTimeSamples > 0 ? { runTime: { p50Ms: durationToMs(n.runTimeP50) ?? 0, p95Ms: durationToMs(n.runTimeP95) ?? 0, samples: n.runTimeSamples } } : {}),
  };
}

/** Waiting tasks (queued or scheduled) that no connected worker can run. */
export function isStranded(n: TaskNameInfo): boolean {
  return n.workers === 0 && n.queued + n.scheduled > 0;
}

/** What Client.logs answers: a task's log lines from some point on. */
export interface TaskLogsInfo {
  lines: { time: Date; attempt: number; text: string }[];
  /** Pass as `after` to read only newer lines. */
  nextAfter: number;
  /** Lines dropped past the per-task bound (after the marker line). */
  dropped: number;
  state: TaskStateName;
  /** True once the task is final: no more lines will come. */
  final: boolean;
}

/** A Stats message as plain numbers. */
export function statsInfo(s: Stats): StatsInfo {
  return {
    queued: {
      critical: Number(s.queued?.critical ?? 0n),
      high: Number(s.queued?.high ?? 0n),
      normal: Number(s.queued?.normal ?? 0n),
      low: Number(s.queued?.low ?? 0n),
    },
    scheduled: Number(s.scheduled),
    running: Number(s.running),
    succeeded: Number(s.succeeded),
    failed: Number(s.failed),
    cancelled: Number(s.cancelled),
    totals: {
      submitted: Number(s.submittedTotal),
      succeeded: Number(s.succeededTotal),
      failed: Number(s.failedTotal),
      cancelled: Number(s.cancelledTotal),
      retried: Number(s.retriedTotal),
      lateResults: Number(s.lateResultsTotal),
      leaseExpiries: Number(s.leaseExpiriesTotal),
    },
    throughput: s.throughput,
    failureRate: s.failureRate,
    recent: { finished: Number(s.recentFinished), failed: Number(s.recentFailed), windowMs: durationToMs(s.recentWindow) ?? 0 },
    workers: s.workers,
    startedAt: date(timestampToMs(s.startedAt)),
    version: s.version,
  };
}
