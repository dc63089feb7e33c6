import type { MessageInitShape } from "@bufbuild/protobuf";
import { Priority, TaskState } from "../../../gen/fastworker/v1/task_pb.js";
import type { ListTasksRequestSchema } from "../../../gen/fastworker/v1/task_service_pb.js";
import { PRIORITY_NAMES, type PriorityName } from "../../../common/priority.js";
import { TASK_STATE_NAMES, type TaskStateName } from "../../../common/task-state.js";
import type { TaskInfo } from "../../../client/task-info.js";

/** The task table's filters, as they appear in the address (#/tasks?state=failed&task=add). */
export interface TaskFilter {
  states: TaskStateName[];
  task: string;
  priority: PriorityName | "";
  /** The start of a task id. */
  id: string;
}

/** No filters: every task. */
export const NO_FILTER: TaskFilter = { states: [], task: "", priority: "", id: "" };

/** Reads filters from URL query parameters, ignoring values that are not valid. */
export function filterFromParams(params: URLSearchParams): TaskFilter {
  const states = (params.get("state") ?? "")
    .split(",")
    .filter((s): s is TaskStateName => (TASK_STATE_NAMES as readonly string[]).includes(s));
  const priority = params.get("priority") ?? "";
  return {
    states,
    task: params.get("task") ?? "",
    priority: (PRIORITY_NAMES as readonly string[]).includes(priority) ? (priority as PriorityName) : "",
    id: params.get("id") ?? "",
  };
}

/** Writes filters as URL query parameters (empty ones left out). */
export function filterToParams(filter: TaskFilter, params = new URLSearchParams()): URLSearchParams {
  const set = (key: string, value: string): void => {
    if (value) params.set(key, value);
    else params.delete(key);
  };
  set("state", filter.states.join(","));
  set("task", filter.task.trim());
  set("priority", filter.priority);
  set("id", filter.id.trim());
  return params;
}

/** The ListTasks request for a filter and page. */
export function listRequest(filter: TaskFilter, pageToken: string, pageSize: number): MessageInitShape<typeof ListTasksRequestSchema> {
  return {
    states: filter.states.map((s) => (TASK_STATE_NAMES.indexOf(s) + 1) as TaskState),
    task: filter.task.trim(),
    priority: filter.priority ? ((PRIORITY_NAMES.indexOf(filter.priority) + 1) as Priority) : Priority.UNSPECIFIED,
    idPrefix: filter.id.trim(),
    pageToken,
    pageSize,
  };
}

/** True when a task matches the filter (the same rules the control plane applies). */
export function matchesFilter(task: TaskInfo, filter: TaskFilter): boolean {
  if (filter.states.length > 0 && !filter.states.includes(task.state)) return false;
  if (filter.task.trim() && task.name !== filter.task.trim()) return false;
  if (filter.priority && task.priority !== filter.priority) return false;
  if (filter.id.trim() && !task.id.startsWith(filter.id.trim())) return false;
  return true;
}

/** True when any filter is set. */
export function isFiltered(filter: TaskFilter): boolean {
  return filter.states.length > 0 || filter.task.trim() !== "" || filter.priority !== "" || filter.id.trim() !== "";
}

/** How many filters are set (the folded filter button says so). */
export function filterCount(filter: TaskFilter): number {
  return (filter.states.length > 0 ? 1 : 0) + (filter.task.trim() ? 1 : 0) + (filter.priority ? 1 : 0) + (filter.id.trim() ? 1 : 0);
}

/**
 * True when a changed task may change which tasks a filtered listing holds,
 * so the listing must be fetched again. A task on screen that still matches
 * is updated in place; one off screen that did not match and does not now
 * changes nothing. A progress report (a task running for more than a second
 * before it reported) leaves every listing as it was: the task was running,
 * and matched or not, before it too.
 */
export function mayChangeListing(task: TaskInfo, onScreen: boolean, filter: TaskFilter): boolean {
  const matches = matchesFilter(task, filter);
  if (onScreen) return !matches;
  if (!matches) return false;
  const reported = task.progress?.updatedAt?.getTime();
  const started = task.startedAt?.getTime();
  return !(task.state === "running" && reported !== undefined && started !== undefined && reported - started > 1000);
}
