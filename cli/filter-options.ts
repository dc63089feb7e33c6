import { InvalidArgumentError, Option, type Command } from "commander";
import type { TaskFilterOptions } from "../client/task-filter.js";
import { parseDurationText } from "../common/duration-text.js";
import { PRIORITY_NAMES, type PriorityName } from "../common/priority.js";
import { TASK_STATE_NAMES, type TaskStateName } from "../common/task-state.js";
import { timeArg } from "./options.js";

// The filter flags `fw tasks`, `fw cancel` and `fw retry` share, defined once.

/** `--state` values: repeatable, or separated by commas ("failed,cancelled"). */
function statesArg(value: string, previous: TaskStateName[] | undefined): TaskStateName[] {
  const states = value.split(",").map((s) => s.trim().toLowerCase());
  for (const s of states) {
    if (!(TASK_STATE_NAMES as readonly string[]).includes(s)) throw new InvalidArgumentError(`expected one of ${TASK_STATE_NAMES.join(", ")}`);
  }
  return [...new Set([...(previous ?? []), ...(states as TaskStateName[])])];
}

/** A time: ISO 8601 with a zone, or a duration meaning that long ago ("30m", "2h", "1d"). */
export function timeOrAgoArg(value: string): Date {
  if (/^\d+(?:\.\d+)?(?:ms|s|m|h|d)/.test(value.trim())) {
    try {
      return new Date(Date.now() - parseDurationText(value));
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  }
  return timeArg(value);
}

/** Adds the filter flags to a command. */
export function addFilterOptions(command: Command): Command {
  return command
    .option("--state <state>", `only tasks in this state (repeatable, or separated by commas): ${TASK_STATE_NAMES.join(", ")}`, statesArg)
    .option("--task <name>", "only tasks with exactly this name")
    .option("--name <name>", "the same as --task")
    .option("--name-contains <text>", "only tasks whose name contains this text (ignoring case)")
    .addOption(new Option("--priority <priority>", "only tasks of this priority").choices(PRIORITY_NAMES))
    .option("--search <text>", "only tasks whose args or error messages contain this text (ignoring case)")
    .option("--worker <id-or-name>", "only tasks with an attempt on this worker")
    .option("--since <time>", "only tasks created at or after this time: ISO 8601, or a duration ago (30m, 2h, 1d)", timeOrAgoArg)
    .option("--until <time>", "only tasks created before this time: ISO 8601, or a duration ago", timeOrAgoArg);
}

/** The filter the flags say; throws an Error (a usage error) for contradictory flags. */
export function filterFrom(opts: Record<string, unknown>): TaskFilterOptions {
  if (opts.task !== undefined && opts.name !== undefined && opts.task !== opts.name) throw new Error("--task and --name are the same flag: give one");
  const filter: TaskFilterOptions = {};
  const task = (opts.task ?? opts.name) as string | undefined;
  if (opts.state !== undefined) filter.state = opts.state as TaskStateName[];
  if (task !== undefined) filter.task = task;
  if (opts.nameContains !== undefined) filter.nameContains = opts.nameContains as string;
  if (opts.priority !== undefined) filter.priority = opts.priority as PriorityName;
  if (opts.search !== undefined) filter.text = opts.search as string;
  if (opts.worker !== undefined) filter.worker = opts.worker as string;
  if (opts.since !== undefined) filter.createdAfter = opts.since as Date;
  if (opts.until !== undefined) filter.createdBefore = opts.until as Date;
  return filter;
}

/** True when any filter flag was given. */
export function hasFilter(filter: TaskFilterOptions): boolean {
  return Object.keys(filter).length > 0;
}
