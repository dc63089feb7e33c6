import { Code, ConnectError } from "@connectrpc/connect";
import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { TaskOrder, type TaskFilter as TaskFilterMessage } from "../../gen/fastworker/v1/task_service_pb.js";
import { isKnownPriority } from "../../common/priority.js";
import { timestampToMs } from "../../common/time.js";
import type { ListOrder, TaskFilter } from "../store/store.js";
import { containsText } from "../store/task-filter.js";
import { validateTaskName } from "./validate.js";

const invalid = (message: string): ConnectError => new ConnectError(message, Code.InvalidArgument);

/** The longest text a filter searches for. */
const MAX_TEXT = 200;

/** ListTasksRequest's shorthand fields, which name some of the filter's. */
export interface FilterShorthands {
  states: readonly TaskState[];
  task: string;
  priority: Priority;
  idPrefix: string;
}

const NO_SHORTHANDS: FilterShorthands = { states: [], task: "", priority: Priority.UNSPECIFIED, idPrefix: "" };

/**
 * A TaskFilter message (and ListTasks' shorthand fields) as the store's
 * filter, or INVALID_ARGUMENT saying which field is wrong. A field may be
 * set in the filter or as a shorthand, not both.
 */
export function filterFromMessage(message: TaskFilterMessage | undefined, shorthands: FilterShorthands = NO_SHORTHANDS): TaskFilter {
  const both = (what: string, inFilter: boolean, short: boolean): void => {
    if (inFilter && short) throw invalid(`${what} is set both in the filter and beside it; set it once`);
  };
  both("the states", (message?.states.length ?? 0) > 0, shorthands.states.length > 0);
  both("the task name", Boolean(message?.name), Boolean(shorthands.task));
  both("the priority", Boolean(message?.priority), Boolean(shorthands.priority));
  both("the id prefix", Boolean(message?.idPrefix), Boolean(shorthands.idPrefix));
  const states = message?.states.length ? message.states : shorthands.states;
  for (const state of states) {
    if (!(state >= TaskState.QUEUED && state <= TaskState.CANCELLED)) throw invalid(`unknown task state ${state} in the filter`);
  }
  const priority = message?.priority || shorthands.priority;
  if (priority !== Priority.UNSPECIFIED && !isKnownPriority(priority)) throw invalid(`unknown priority ${priority} in the filter`);
  const name = message?.name || shorthands.task;
  const idPrefix = message?.idPrefix || shorthands.idPrefix;
  const filter: TaskFilter = {
    states,
    ...(name ? { name: validateTaskName(name) } : {}),
    ...(priority ? { priority } : {}),
    ...(idPrefix ? { idPrefix } : {}),
  };
  if (message === undefined) return filter;
  if (message.nameContains) filter.nameContains = containsText(bounded(message.nameContains, "name_contains"));
  if (message.text) filter.text = containsText(bounded(message.text, "text"));
  if (message.worker) filter.worker = bounded(message.worker, "worker");
  if (message.createdAfter !== undefined) filter.createdAfter = validTime(message.createdAfter, "created_after");
  if (message.createdBefore !== undefined) filter.createdBefore = validTime(message.createdBefore, "created_before");
  if (filter.createdAfter !== undefined && filter.createdBefore !== undefined && filter.createdAfter >= filter.createdBefore) {
    throw invalid("created_after must be earlier than created_before");
  }
  return filter;
}

/** A listing's order; "next" lists waiting tasks only, so a filter for other states is refused rather than ignored. */
export function orderFromMessage(order: TaskOrder, filter: TaskFilter): ListOrder {
  switch (order) {
    case TaskOrder.UNSPECIFIED:
    case TaskOrder.NEWEST_FIRST:
      return "newest";
    case TaskOrder.OLDEST_FIRST:
      return "oldest";
    case TaskOrder.NEXT_TO_RUN: {
      const other = filter.states?.find((s) => s !== TaskState.QUEUED && s !== TaskState.SCHEDULED);
      if (other !== undefined) {
        throw invalid(`the next-to-run order lists waiting tasks (queued and scheduled), not ${TaskState[other]!.toLowerCase()} ones: drop that state from the filter, or list by creation`);
      }
      return "next";
    }
    default:
      throw invalid(`unknown order ${order as number}; use TASK_ORDER_NEWEST_FIRST, TASK_ORDER_OLDEST_FIRST or TASK_ORDER_NEXT_TO_RUN`);
  }
}

function bounded(text: string, field: string): string {
  if (text.length > MAX_TEXT) throw invalid(`${field} is ${text.length} characters; a filter searches for at most ${MAX_TEXT}`);
  return text;
}

function validTime(timestamp: Parameters<typeof timestampToMs>[0], field: string): number {
  const ms = timestampToMs(timestamp);
  if (!Number.isFinite(ms)) throw invalid(`${field} is not a valid time`);
  return ms;
}
