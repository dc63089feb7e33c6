import { create } from "@bufbuild/protobuf";
import {
  AttemptOutcome,
  AttemptSchema,
  ProgressSchema,
  TaskErrorSchema,
  TaskSchema,
  TaskState,
  TaskView,
  type Task,
  type TaskError,
} from "../../gen/fastworker/v1/task_pb.js";
import type { TaskOutcome } from "../../gen/fastworker/v1/task_service_pb.js";
import { jsonToValue } from "../../common/json.js";
import { timestampFromMs } from "../../common/time.js";
import type { ControlPlane } from "./control-plane.js";
import { resolveRetry } from "./retry-policy.js";
import type { TaskErrorData, TaskRecord } from "../store/task-record.js";

/** The Task message for a record; BASIC leaves out args, result and attempts. */
export function taskMessage(task: TaskRecord, view: TaskView, plane: ControlPlane, now: number): Task {
  const attempt = task.currentAttempt;
  const full = view === TaskView.FULL;
  return create(TaskSchema, {
    id: task.id,
    name: task.name,
    priority: task.priority,
    state: task.state,
    args: full ? jsonToValue(JSON.parse(task.argsJson)) : undefined,
    result: full && task.resultJson !== undefined && task.state === TaskState.SUCCEEDED ? jsonToValue(JSON.parse(task.resultJson)) : undefined,
    error: task.error === undefined ? undefined : taskError(task.error, full),
    attempt: task.attempt,
    maxAttempts: resolveRetry(task.options.retry, plane.definitions.get(task.name)?.retry).maxAttempts,
    attempts: full
      ? (task.attempts ?? []).map((a) =>
          create(AttemptSchema, {
            number: a.number,
            workerId: a.workerId,
            workerName: a.workerName,
            dispatchedAt: timestampFromMs(a.dispatchedAt),
            ackedAt: timestampFromMs(a.ackedAt),
            finishedAt: timestampFromMs(a.finishedAt),
            outcome: a.outcome,
            error: a.error === undefined ? undefined : taskError(a.error, true),
            series: a.series,
          }),
        )
      : [],
    workerId: attempt?.workerId ?? "",
    workerName: attempt?.workerName ?? "",
    idempotencyKey: task.options.idempotencyKey ?? "",
    createdAt: timestampFromMs(task.createdAt),
    scheduledFor: task.state === TaskState.SCHEDULED ? timestampFromMs(task.scheduledFor) : undefined,
    startedAt: timestampFromMs(task.startedAt),
    finishedAt: timestampFromMs(task.finishedAt),
    statusMessage: plane.statusMessage(task, now),
    progress:
      task.progress === undefined
        ? undefined
        : create(ProgressSchema, {
            fraction: task.progress.fraction,
            message: task.progress.message,
            updatedAt: timestampFromMs(task.progress.updatedAt),
          }),
    metadata: task.options.metadata,
    series: task.series,
    seriesAttempt: seriesAttempt(task),
  });
}

/** Attempts of the current series that count toward max attempts: lost and handed-back ones do not. */
function seriesAttempt(task: TaskRecord): number {
  const attempts = task.attempts;
  if (attempts === undefined) return 0;
  let n = 0;
  // Attempts are numbered from 1 consecutively: the series' first is at index seriesStart.
  for (let i = task.seriesStart; i < attempts.length; i++) {
    const outcome = attempts[i]!.outcome;
    if (outcome !== AttemptOutcome.LOST && outcome !== AttemptOutcome.RELEASED) n++;
  }
  return n;
}

/** The compact outcome a Session stream carries. */
export function taskOutcome(task: TaskRecord): TaskOutcome {
  return {
    $typeName: "fastworker.v1.TaskOutcome",
    id: task.id,
    state: task.state,
    resultJson: task.state === TaskState.SUCCEEDED ? (task.resultJson ?? "null") : "",
    error: task.error === undefined ? undefined : taskError(task.error, true),
    lookupError: undefined,
  };
}

function taskError(error: TaskErrorData, withStack: boolean): TaskError {
  return create(TaskErrorSchema, {
    message: error.message,
    stack: withStack ? error.stack : "",
    type: error.type,
    retryable: error.retryable,
  });
}
