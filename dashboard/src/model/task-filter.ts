import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ListTasksRequestSchema } from "../../../gen/fastworker/v1/task_service_pb.js";
import { PRIORITY_NAMES, type PriorityName } from "../../../common/priority.js";
import { TASK_STATE_NAMES, type TaskStateName } from "../../../common/task-state.js";
import type { TaskInfo } from "../../../client/task-info.js";
import { taskFilterMessage, taskOrderFromName, TASK_ORDER_NAMES, type TaskFilterOptions, type TaskOrderName } from "../../../client/task-filter.js";

/**
 * The task list's filters and order, as they appear in the address
 * (#/tasks?state=failed&task=add&q=timeout&order=oldest), so a view can be
 * shared. Times are what a datetime-local field holds (local time).
 */
export interface TaskFilter {
  states: TaskStateName[];
  /** Exactly this name. */
  task: string;
  /** Names containing this text. */
  contains: string;
  priority: PriorityName | "";
  /** The start of a task id. */
  id: string;
  /** Text in the args or error messages. */
  text: string;
  /** A worker's id or name. */
  worker: string;
  /** Created at or after / before, "YYYY-MM-DDTHH:MM" in local time. */
  from: string;
  to: string;
  order: TaskOrderName;
}

/** No filters: every task, newest first. */
export const NO_FILTER: TaskFilter = { states: [], task: "", contains: "", priority: "", id: "", text: "", worker: "", from: "", to: "", order: "newest" };

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/** Reads filters from URL query parameters, ignoring values that are not valid. */
export function filterFromParams(params: URLSearchParams): TaskFilter {
  const states = (params.get("state") ?? "")
    .split(",")
    .filter((s): s is TaskStateName => (TASK_STATE_NAMES as readonly string[]).includes(s));
  const priority = params.get("priority") ?? "";
  const order = params.get("order") ?? "";
  const time = (key: string): string => {
    const value = params.get(key) ?? "";
    return LOCAL_TIME.test(value) && !Number.isNaN(new Date(value).getTime()) ? value : "";
  };
  return {
    states,
    task: params.get("task") ?? "",
    contains: params.get("contains") ?? "",
    priority: (PRIORITY_NAMES as readonly string[]).includes(priority) ? (priority as PriorityName) : "",
    id: params.get("id") ?? "",
    text: params.get("q") ?? "",
    worker: params.get("worker") ?? "",
    from: time("from"),
    to: time("to"),
    order: (TASK_ORDER_NAMES as readonly string[]).includes(order) ? (order as TaskOrderName) : "newest",
  };
}

/** Writes filters as URL query parameters (empty ones, and the default order, left out). */
export function filterToParams(filter: TaskFilter, params = new URLSearchParams()): URLSearchParams {
  const set = (key: string, value: string): void => {
    if (value) params.set(key, value);
    else params.delete(key);
  };
  set("state", filter.states.join(","));
  set("task", filter.task.trim());
  set("contains", filter.contains.trim());
  set("priority", filter.priority);
  set("id", filter.id.trim());
  set("q", filter.text.trim());
  set("worker", filter.worker.trim());
  set("from", filter.from);
  set("to", filter.to);
  set("order", filter.order === "newest" ? "" : filter.order);
  return params;
}

/** The filter as the client library words it (for listings and the actions on every matching task). */
export function filterOptions(filter: TaskFilter): TaskFilterOptions {
  const options: TaskFilterOptions = { state: filter.states };
  if (filter.task.trim()) options.task = filter.task.trim();
  if (filter.contains.trim()) options.nameContains = filter.contains.trim();
  if (filter.priority) options.priority = filter.priority;
  if (filter.id.trim()) options.idPrefix = filter.id.trim();
  if (filter.text.trim()) options.text = filter.text.trim();
  if (filter.worker.trim()) options.worker = filter.worker.trim();
  if (filter.from) options.createdAfter = new Date(filter.from);
  if (filter.to) options.createdBefore = new Date(filter.to);
  return options;
}

/** Which page of a listing: the first, the one a token names, or the last. */
export interface PageAt {
  token: string;
  last: boolean;
}

/** The ListTasks request for a filter and page. */
export function listRequest(filter: TaskFilter, page: PageAt, pageSize: number): MessageInitShape<typeof ListTasksRequestSchema> {
  return {
    filter: taskFilterMessage(filterOptions(filter)),
    order: taskOrderFromName(filter.order),
    pageToken: page.token,
    lastPage: page.last,
    pageSize,
  };
}

/**
 * Whether a task matches the filter, by the same rules as the control
 * plane; undefined when the listing's view of a task cannot tell (text in
 * its args, an earlier attempt's worker).
 */
export function matchesFilter(task: TaskInfo, filter: TaskFilter): boolean | undefined {
  if (filter.states.length > 0 && !filter.states.includes(task.state)) return false;
  if (filter.order === "next-to-run" && task.state !== "queued" && task.state !== "scheduled") return false;
  if (filter.task.trim() && task.name !== filter.task.trim()) return false;
  if (filter.contains.trim() && !task.name.toLowerCase().includes(filter.contains.trim().toLowerCase())) return false;
  if (filter.priority && task.priority !== filter.priority) return false;
  if (filter.id.trim() && !task.id.startsWith(filter.id.trim())) return false;
  const created = task.createdAt?.getTime() ?? 0;
  if (filter.from && created < new Date(filter.from).getTime()) return false;
  if (filter.to && created >= new Date(filter.to).getTime()) return false;
  if (filter.text.trim() || filter.worker.trim()) return undefined;
  return true;
}

/** True when any filter is set (the order is not a filter). */
export function isFiltered(filter: TaskFilter): boolean {
  return filterCount(filter) > 0;
}

/** How many filters are set (the folded filter button says so). */
export function filterCount(filter: TaskFilter): number {
  const set = [filter.task, filter.contains, filter.priority, filter.id, filter.text, filter.worker, filter.from, filter.to].filter((v) => v.trim() !== "");
  return (filter.states.length > 0 ? 1 : 0) + set.length;
}

/**
 * True when a changed task may change which tasks a filtered listing holds,
 * so the listing must be fetched again. A task on screen that still matches
 * is updated in place; one off screen that did not match and does not now
 * changes nothing. A progress report (a task running for more than a second
 * before it reported) leaves every listing as it was: the task was running,
 * and matched or not, before it too. When the listing's view of the task
 * cannot tell whether it matches, it may.
 */
export function mayChangeListing(task: TaskInfo, onScreen: boolean, filter: TaskFilter): boolean {
  const matches = matchesFilter(task, filter);
  if (matches === undefined) return true;
  if (onScreen) return !matches;
  if (!matches) return false;
  const reported = task.progress?.updatedAt?.getTime();
  const started = task.startedAt?.getTime();
  return !(task.state === "running" && reported !== undefined && started !== undefined && reported - started > 1000);
}
