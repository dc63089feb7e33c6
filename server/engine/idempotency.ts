import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { argsDigest, sameArgs } from "../store/key-index.js";
import type { TaskRecord } from "../store/task-record.js";
import type { TaskStore } from "../store/task-store.js";

/** A submission answered by an earlier task with the same name, key and args. */
export interface Duplicate {
  id: string;
  state: TaskState;
  /** Undefined when only the key is remembered (the task's record is gone: its result expired). */
  task: TaskRecord | undefined;
}

/**
 * Looks up an idempotency key for a submission. Keys are scoped per task
 * name, so the same key on another name is a new task. The same name, key
 * and args answer the first task; different args are refused with
 * ALREADY_EXISTS naming that task, never answered with its result: the
 * caller reused a key for different work, which is a bug to surface.
 */
export function findDuplicate(store: TaskStore, input: { name: string; argsJson: string; key: string }, now: number): Duplicate | undefined {
  const match = store.getByKey(input.name, input.key, now);
  if (match === undefined) return undefined;
  if (match.task !== undefined) {
    const task = match.task;
    if (!sameArgs(task.argsJson, input.argsJson)) throw conflict(input, task.id, "");
    return { id: task.id, state: task.state, task };
  }
  const remembered = match.remembered;
  if (remembered.digest !== argsDigest(input.argsJson)) {
    throw conflict(input, remembered.id, ` (finished; the key is remembered until ${new Date(remembered.expiresAt).toISOString()}, fw-server --key-ttl)`);
  }
  return { id: remembered.id, state: remembered.state, task: undefined };
}

function conflict(input: { name: string; key: string }, id: string, note: string): ConnectError {
  return new ConnectError(
    `idempotency key ${JSON.stringify(input.key)} of task "${input.name}" was used by task ${id}${note} with different args; ` +
      "use a new key for different work, or the same args to get that task back",
    Code.AlreadyExists,
  );
}
