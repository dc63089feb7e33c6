import { Code, ConnectError } from "@connectrpc/connect";
import { TaskState } from "../gen/fastworker/v1/task_pb.js";

/** Task states as users type and read them, in wire order starting at QUEUED. */
export const TASK_STATE_NAMES = ["queued", "scheduled", "running", "succeeded", "failed", "cancelled"] as const;

/** A task state as users write it. */
export type TaskStateName = (typeof TASK_STATE_NAMES)[number];

/** The lowercase name of a wire state. */
export function taskStateName(state: TaskState): TaskStateName {
  return TASK_STATE_NAMES[state - 1] ?? "queued";
}

/** Parses a state name (case-insensitive); throws INVALID_ARGUMENT naming the choices. */
export function taskStateFromName(name: string): TaskState {
  const index = TASK_STATE_NAMES.indexOf(name.toLowerCase() as TaskStateName);
  if (index < 0) {
    throw new ConnectError(
      `unknown task state "${name}": use one of ${TASK_STATE_NAMES.join(", ")}`,
      Code.InvalidArgument,
    );
  }
  return (index + 1) as TaskState;
}

/** SUCCEEDED, FAILED and CANCELLED: nothing more happens to the task unless retried. */
export function isFinalState(state: TaskState): boolean {
  return state === TaskState.SUCCEEDED || state === TaskState.FAILED || state === TaskState.CANCELLED;
}
