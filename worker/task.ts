import type { PriorityName } from "../common/priority.js";
import type { RetryOptions } from "../common/task-options.js";
import { flowLimitMessage, type RateLimitOptions } from "../common/limit-options.js";
import { scheduleSpecMessage, type ScheduleOptions } from "../common/schedule-options.js";
import { cronTiming } from "../common/schedule-timing.js";

const TASK_BRAND = Symbol.for("fastworker.task");

/** What a handler gets besides its args. */
export interface TaskContext {
  readonly taskId: string;
  /** The task name. */
  readonly name: string;
  /** This attempt's number: 1 for the first delivery, counting retries and re-deliveries. */
  readonly attempt: number;
  /** Attempts allowed by the retry policy in force. */
  readonly maxAttempts: number;
  /** The priority the task was queued with. */
  readonly priority: PriorityName;
  /** Aborted when the task is cancelled, times out, or the worker shuts down; abort.reason says which. */
  readonly signal: AbortSignal;
  /** Metadata submitted with the task. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Reports progress (0..1, and a note); the latest value shows in `fw status` and the dashboard. */
  progress(fraction: number, message?: string): void;
  /**
   * Adds a line to the task's log, shown by `fw logs ID` and in the
   * dashboard's detail view. Kept with the task (at most 1,000 lines and
   * 64 KiB per task; a line is cut at 2 KiB, newlines become spaces).
   */
  log(line: string): void;
}

/** A task handler: args in, a JSON-serialisable result out (or a throw). */
export type TaskHandler<A, R> = (args: A, context: TaskContext) => R | Promise<R>;


/** Defaults for every submission of a task (a submission may override them). */
export interface TaskOptions {
  /** Default "normal". */
  priority?: PriorityName;
  retry?: RetryOptions;
  /** Each attempt is aborted after this long (default: no limit). */
  timeoutMs?: number;
  /**
   * Where the handler runs. "main" (default): on the worker's event loop;
   * cheapest, right for I/O-bound work. "thread": in a worker thread, so
   * CPU-bound work does not stall the worker, and a handler that ignores its
   * abort signal past the grace period is stopped by terminating its thread.
   * Args and results cross the thread boundary by structured clone, and the
   * task module is imported again inside the thread.
   */
  isolation?: "main" | "thread";
  /**
   * Run this task periodically: `{ cron: "0 3 * * *", tz: "Europe/Paris", args }`
   * or `{ every: "5m" }` (several: an array, each with its own `id`). The
   * control plane ticks it, once per tick however many workers declare it.
   */
  schedule?: ScheduleOptions | readonly ScheduleOptions[];
  /** The most tasks of this name running at once across all workers (the control plane enforces it). */
  concurrency?: number;
  /** The most starts per window across all workers: `{ max: 100, perMs: 60_000 }`. A task over the rate waits, queued. */
  rateLimit?: RateLimitOptions;
  /** Apply `concurrency` and `rateLimit` per value of this: "args:/customer/id" (a JSON pointer into the args) or "metadata:tenant". */
  limitKey?: string;
}

/** A task definition: what task() returns and task modules export. */
export interface TaskDefinition<A = unknown, R = unknown> {
  readonly name: string;
  readonly handler: TaskHandler<A, R>;
  readonly options: Readonly<TaskOptions>;
  /** Type-only marker so typed handles can infer args and result; never set at run time. */
  readonly __types?: { args: A; result: R };
}

/**
 * Defines a task. Export the result from a task module; workers started with
 * `--tasks module` serve every task it exports.
 *
 * ```ts
 * export const add = task("add", async ({ a, b }: { a: number; b: number }) => a + b);
 * ```
 */
export function task<A = unknown, R = unknown>(
  name: string,
  handler: TaskHandler<A, R>,
  options: TaskOptions = {},
): TaskDefinition<A, Awaited<R>> {
  if (typeof name !== "string" || name.length === 0) throw new TypeError("task(name, handler): the name must be a non-empty string");
  if (typeof handler !== "function") throw new TypeError(`task("${name}", handler): the handler must be a function`);
  if (options.isolation !== undefined && options.isolation !== "main" && options.isolation !== "thread") {
    throw new TypeError(`task("${name}"): isolation must be "main" or "thread" (got ${JSON.stringify(options.isolation)})`);
  }
  // Checked here, so a mistake fails when the module loads rather than at registration.
  flowLimitMessage(options, `task("${name}")`);
  for (const schedule of schedulesOf(options)) {
    scheduleSpecMessage(schedule, name);
    if (schedule.cron !== undefined) {
      try {
        cronTiming(schedule.cron, schedule.tz);
      } catch (err) {
        throw new TypeError(`task("${name}") schedule${schedule.id ? ` "${schedule.id}"` : ""}: ${(err as Error).message}`);
      }
    }
  }
  const definition = { name, handler, options: Object.freeze({ ...options }) };
  Object.defineProperty(definition, TASK_BRAND, { value: true });
  return Object.freeze(definition) as unknown as TaskDefinition<A, Awaited<R>>;
}

/** The schedules a task's options declare (none, one, or several). */
export function schedulesOf(options: TaskOptions): readonly ScheduleOptions[] {
  const schedule = options.schedule;
  return schedule === undefined ? [] : Array.isArray(schedule) ? schedule : [schedule as ScheduleOptions];
}

/**
 * True for values made by task(). Checked by a global symbol, not
 * instanceof, so definitions from another copy of the package still count.
 */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[TASK_BRAND] === true;
}
