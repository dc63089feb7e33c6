#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { Client, DEFAULT_DISCOVERY_TIMEOUT_MS, type SubmitOptions } from "../client/client.js";
import { describeDiscovery } from "../common/discovery/discover.js";
import { TaskFailedError } from "../client/task-failed-error.js";
import { codeName, ConnectError } from "../common/errors.js";
import { PRIORITY_NAMES, type PriorityName } from "../common/priority.js";
import { VERSION } from "../common/version.js";
import { LOG_LIMITS } from "../common/log-limits.js";
import { setTimeout as sleep } from "node:timers/promises";
import { formatResult, formatStats, formatTask, formatTaskNames, formatTasks, formatWorkers, printJson } from "./format.js";
import { addLimitCommands, addScheduleCommands } from "./schedule-commands.js";
import { formatLimitUsage } from "./format-schedules.js";
import { safeLine } from "./terminal-text.js";
import { printGrpcLogs } from "./grpc-logs.js";
import { addFilterOptions, filterFrom, hasFilter } from "./filter-options.js";
import { TASK_ORDER_NAMES, type BulkOptions, type BulkResult, type TaskOrderName } from "../client/task-filter.js";
import { addConnectionOptions, connectionFrom, intArg, jsonOption, secondsArg, serverOption, timeArg, type Connection } from "./options.js";

/** The global flags the commands read themselves (connectionFrom reads the others). */
interface GlobalOptions {
  server?: string;
  json?: boolean;
}

const program = addConnectionOptions(new Command("fw").description("The fastworker command line client.").version(VERSION).addOption(serverOption()), DEFAULT_DISCOVERY_TIMEOUT_MS)
  .option("--json", "machine-readable output")
  .showHelpAfterError()
  .exitOverride();

/** Runs a command with a client, closing it afterwards. */
function withClient(action: (client: Client, args: string[], opts: Record<string, unknown>, global: GlobalOptions) => Promise<void>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const global = command.optsWithGlobals() as GlobalOptions;
    const client = await connect(global);
    try {
      await action(client, command.args, command.opts(), global);
    } finally {
      await client.close();
    }
  };
}

program
  .command("submit <task>")
  .description("submit a task; prints its id (or its result with --wait)")
  .option("--args <json>", "the task's args as JSON", "null")
  .addOption(new Option("--priority <priority>", "critical, high, normal or low").choices(PRIORITY_NAMES))
  .option("--wait", "wait for the result and print it")
  .option("--key <key>", "idempotency key: resubmitting with it returns the first task")
  .option("--delay <seconds>", "run no sooner than this many seconds from now", secondsArg)
  .option("--at <time>", "run no sooner than this time, ISO 8601 (e.g. 2026-12-01T03:00:00Z); a past time runs now", timeArg)
  .option("--timeout <seconds>", "abort each attempt after this long", secondsArg)
  .option("--max-attempts <n>", "attempts in all, retries included", intArg(1, 1000))
  .action(withClient(async (client, [task], opts, global) => {
    let args: unknown;
    try {
      args = jsonOption(opts.args as string, "--args");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const options: SubmitOptions = {
      priority: opts.priority as PriorityName | undefined,
      key: opts.key as string | undefined,
      delayMs: opts.delay as number | undefined,
      runAt: opts.at as Date | undefined,
      timeoutMs: opts.timeout as number | undefined,
      retry: opts.maxAttempts ? { maxAttempts: opts.maxAttempts as number } : undefined,
    };
    if (opts.delay !== undefined && opts.at !== undefined) throw new UsageError("give --delay or --at, not both");
    const handle = await client.submit(task!, args, options);
    if (!opts.wait) {
      if (global.json) printJson({ id: handle.id, deduplicated: handle.deduplicated });
      else process.stdout.write(`${safeLine(handle.id)}\n`);
      return;
    }
    await printResult(client, handle.id, global, undefined);
  }));

program
  .command("status <id>")
  .description("show a task's state, attempts and result")
  .action(withClient(async (client, [id], _opts, global) => {
    const task = await client.getTask(id!);
    if (global.json) printJson(task);
    else process.stdout.write(`${formatTask(task)}\n`);
  }));

program
  .command("result <id>")
  .description("print a task's result; fails if it failed, or is not finished (without --wait)")
  .option("--wait", "wait until the task finishes")
  .option("--timeout <seconds>", "with --wait, give up after this long", secondsArg)
  .action(withClient(async (client, [id], opts, global) => {
    if (opts.wait) {
      await printResult(client, id!, global, opts.timeout as number | undefined);
      return;
    }
    const task = await client.getTask(id!);
    if (task.state === "succeeded") {
      if (global.json) printJson({ id: task.id, state: task.state, result: task.result ?? null });
      else process.stdout.write(`${formatResult(task.result ?? null)}\n`);
      return;
    }
    if (task.state === "failed" || task.state === "cancelled") {
      throw new TaskFailedError(task.id, task.state, task.error ?? { message: "no reason recorded", type: "", retryable: false });
    }
    throw new NotFinished(`task ${task.id} is ${task.state}, not finished (${task.statusMessage}); use --wait to wait for it`);
  }));

addFilterOptions(
  program
    .command("cancel [id]")
    .description("cancel a queued, scheduled or running task; or, with filters (or --all), every such task they match: first a count, then --confirm COUNT"),
)
  .option("--reason <text>", "why, for the record")
  .option("--all", "every queued, scheduled and running task (no filter)")
  .option("--confirm <count>", "act on the tasks a dry run counted, if exactly that many match now", intArg(1, Number.MAX_SAFE_INTEGER))
  .action(withClient(async (client, [id], opts, global) => {
    const reason = (opts.reason as string | undefined) ?? "";
    const selection = bulkSelectionFrom(id, opts, "cancel");
    if (selection === undefined) {
      const task = await client.cancel(id!, reason);
      if (global.json) printJson(task);
      else process.stdout.write(`${safeLine(task.id)} ${task.state}\n`);
      return;
    }
    printBulk(await client.cancelMany(selection, reason), "cancel", "cancelled", "queued, scheduled or running", global);
  }));

addFilterOptions(
  program
    .command("retry [id]")
    .description("run a failed or cancelled task again; or, with filters (or --all-failed), every such task they match: first a count, then --confirm COUNT"),
)
  .option("--all-failed", "every failed task (the same as --state failed)")
  .option("--all", "every failed and cancelled task (no filter)")
  .option("--confirm <count>", "act on the tasks a dry run counted, if exactly that many match now", intArg(1, Number.MAX_SAFE_INTEGER))
  .action(withClient(async (client, [id], opts, global) => {
    if (opts.allFailed) {
      if (opts.state !== undefined && !(opts.state as string[]).every((s) => s === "failed")) throw new UsageError("--all-failed means --state failed: give one");
      opts.state = ["failed"];
    }
    const selection = bulkSelectionFrom(id, opts, "retry");
    if (selection === undefined) {
      const task = await client.retry(id!);
      if (global.json) printJson(task);
      else process.stdout.write(`${safeLine(task.id)} ${task.state}\n`);
      return;
    }
    printBulk(await client.retryMany(selection), "retry", "retried", "failed or cancelled", global);
  }));

program
  .command("logs <id>")
  .description("print the lines a task's handlers wrote with ctx.log(); --follow prints new ones until the task is final")
  .option("--follow", "keep printing new lines until the task finishes")
  .action(withClient(async (client, [id], opts, global) => {
    let after = 0;
    let dropped = 0;
    for (;;) {
      const page = await client.logs(id!, after);
      if (global.json) {
        for (const line of page.lines) process.stdout.write(`${JSON.stringify({ time: line.time.toISOString(), attempt: line.attempt, text: line.text })}\n`);
      } else {
        for (const line of page.lines) process.stdout.write(`${line.time.toISOString()} [attempt ${line.attempt}] ${safeLine(line.text)}\n`);
      }
      after = page.nextAfter;
      dropped = page.dropped;
      if (!opts.follow || page.final) break;
      await sleep(FOLLOW_POLL_MS);
    }
    if (dropped > 0 && !global.json) process.stderr.write(`fw: ${dropped.toLocaleString("en-US")} later lines were dropped (a task keeps at most ${LOG_LIMITS.taskLines} lines and ${LOG_LIMITS.taskBytes / 1024} KiB)\n`);
  }));

program
  .command("run-now <id>")
  .description("queue a scheduled task (delayed, or waiting to retry) now instead of at its time")
  .action(withClient(async (client, [id], _opts, global) => {
    const task = await client.runNow(id!);
    if (global.json) printJson(task);
    else process.stdout.write(`${safeLine(task.id)} ${task.state}\n`);
  }));

addFilterOptions(
  program
    .command("tasks")
    .description("list tasks: newest first, oldest first, or in the order they will run; filtered; paged"),
)
  .addOption(new Option("--order <order>", "newest (default), oldest, or next-to-run (waiting tasks: priority, then queue position)").choices(TASK_ORDER_NAMES))
  .option("--limit <n>", "at most this many", intArg(1, 1000), 20)
  .option("--page <token>", "the page a previous listing named (next or previous), with the same order and filters")
  .option("--last", "the last page instead of the first")
  .action(withClient(async (client, _args, opts, global) => {
    let filter;
    try {
      filter = filterFrom(opts);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (opts.page !== undefined && opts.last) throw new UsageError("give --page or --last, not both");
    const page = await client.listTasks({
      ...filter,
      order: opts.order as TaskOrderName | undefined,
      limit: opts.limit as number,
      pageToken: opts.page as string | undefined,
      lastPage: Boolean(opts.last),
    });
    if (global.json) printJson(page);
    else process.stdout.write(`${formatTasks(page)}\n`);
  }));

program
  .command("workers")
  .description("list connected (and recently lost) workers")
  .action(withClient(async (client, _args, _opts, global) => {
    const workers = await client.workers();
    if (global.json) printJson(workers);
    else process.stdout.write(`${formatWorkers(workers)}\n`);
  }));

program
  .command("stats")
  .description("queue depths, totals and throughput; per task name: tasks by state, workers serving it, run times")
  .action(withClient(async (client, _args, _opts, global) => {
    const [stats, limits, names] = await Promise.all([client.stats(), client.listLimits(), client.taskNames()]);
    if (global.json) printJson({ ...stats, limits, taskNames: names.names });
    else process.stdout.write(`${[formatStats(stats), formatTaskNames(names), formatLimitUsage(limits)].filter(Boolean).join("\n")}\n`);
  }));

program
  .command("pause <task>")
  .description("stop dispatching a task name's tasks (submissions still queue; running ones go on) until `fw resume`")
  .action(withClient(async (client, [task], _opts, global) => {
    const name = await client.pauseTaskName(task!);
    if (global.json) printJson(name);
    else process.stdout.write(`${safeLine(name.name)} paused; ${name.queued} queued\n`);
  }));

program
  .command("resume <task>")
  .description("dispatch a paused task name's tasks again, in their order")
  .action(withClient(async (client, [task], _opts, global) => {
    const name = await client.resumeTaskName(task!);
    if (global.json) printJson(name);
    else process.stdout.write(`${safeLine(name.name)} resumed; ${name.queued} queued\n`);
  }));

/** A client for --server, or for the control plane found by beacon (saying which, on stderr). */
async function connect(global: GlobalOptions): Promise<Client> {
  let connection: Connection;
  try {
    connection = connectionFrom(global as unknown as Record<string, unknown>);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { token, tls, discovery } = connection;
  if (global.server) return newClient({ server: global.server, token, tls });
  const client = await Client.discover({
    ...discovery,
    token,
    tls,
    // Progress only for a person watching; scripts get the result line or one error line.
    onProgress: process.stderr.isTTY ? (status) => process.stderr.write(`fw: ${status}\n`) : undefined,
    progressIntervalMs: 2000,
  });
  process.stderr.write(`fw: ${describeDiscovery(client.discovery!)}\n`);
  return client;
}

/** A Client; a bad address or token is a usage error (exit 2), not a failed call. */
function newClient(options: ConstructorParameters<typeof Client>[0]): Client {
  try {
    return new Client(options);
  } catch (err) {
    throw new UsageError(err instanceof ConnectError ? err.rawMessage : (err as Error).message);
  }
}

async function printResult(client: Client, id: string, global: GlobalOptions, timeoutMs: number | undefined): Promise<void> {
  const result = await client.result(id, { timeoutMs });
  if (global.json) printJson({ id, state: "succeeded", result });
  else process.stdout.write(`${formatResult(result)}\n`);
}

/**
 * What `fw cancel` / `fw retry` act on: undefined for one task by id, else
 * a bulk selection from the filter flags (a dry run unless --confirm).
 */
function bulkSelectionFrom(id: string | undefined, opts: Record<string, unknown>, verb: string): BulkOptions | undefined {
  let filter;
  try {
    filter = filterFrom(opts);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const many = hasFilter(filter) || Boolean(opts.all);
  if (id !== undefined) {
    if (many || opts.confirm !== undefined) throw new UsageError(`give a task id, or filters to ${verb} many tasks, not both`);
    return undefined;
  }
  if (!many) throw new UsageError(`give a task id, or filters (--state, --task, --search, --since, …) or --all to ${verb} many tasks`);
  if (opts.all && hasFilter(filter)) throw new UsageError("--all means no filter: give --all or filters");
  return { ...filter, ...(opts.confirm !== undefined ? { expectedCount: opts.confirm as number } : {}) };
}

/** A bulk action's outcome; after a dry run, the command that confirms it. */
function printBulk(result: BulkResult, verb: string, done: string, states: string, global: GlobalOptions): void {
  if (global.json) {
    printJson(result);
    return;
  }
  const n = (v: number): string => v.toLocaleString("en-US");
  if (!result.dryRun) {
    process.stdout.write(`${done} ${n(result.done)} task${result.done === 1 ? "" : "s"}\n`);
    return;
  }
  const tasks = `${n(result.matched)} ${states} task${result.matched === 1 ? "" : "s"}`;
  if (result.matched === 0) {
    process.stdout.write(`no ${states} task matches: nothing to ${verb}\n`);
    return;
  }
  const again = safeLine(["fw", ...process.argv.slice(2), "--confirm", String(result.matched)].map(shellWord).join(" "));
  process.stdout.write(`${tasks} match (dry run: nothing done). To ${verb} them:\n  ${again}\n`);
}

/** A word as a POSIX shell reads it back. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** How often `fw logs --follow` asks for new lines. */
const FOLLOW_POLL_MS = 500;

class UsageError extends Error {}
class NotFinished extends Error {}

addScheduleCommands(program, withClient, UsageError);
addLimitCommands(program, withClient, UsageError);

printGrpcLogs((line) => process.stderr.write(line));
try {
  await program.parseAsync();
} catch (err) {
  process.exitCode = exitCode(err);
  if (!(err instanceof CommanderError)) process.stderr.write(`fw: ${describe(err)}\n`);
}

/** The one error line: messages can quote what a worker or submitter wrote, so controls are removed. */
function describe(err: unknown): string {
  if (err instanceof ConnectError) return safeLine(`${err.rawMessage} (${codeName(err.code)})`);
  if (err instanceof Error) return safeLine(err.message);
  return safeLine(String(err));
}

function exitCode(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError) return 2;
  if (err instanceof NotFinished) return 3;
  return 1;
}
