import { Option, type Command } from "commander";
import type { Client } from "../client/client.js";
import type { ScheduleOptions } from "../common/schedule-options.js";
import { PRIORITY_NAMES, type PriorityName } from "../common/priority.js";
import { formatLimits, formatSchedule, formatSchedules } from "./format-schedules.js";
import { printJson } from "./format.js";
import { intArg, jsonOption } from "./options.js";

/** Runs an action with a connected client (fw.ts's withClient). */
export type WithClient = (action: (client: Client, args: string[], opts: Record<string, unknown>, global: { json?: boolean }) => Promise<void>) => (...params: unknown[]) => Promise<void>;

/** Thrown for bad usage (exit code 2). */
export type UsageErrorClass = new (message: string) => Error;

/** `fw schedule add|ls|show|rm|pause|resume|run`. */
export function addScheduleCommands(program: Command, withClient: WithClient, UsageError: UsageErrorClass): void {
  const schedule = program.command("schedule").description("periodic tasks: add, list, pause, resume, run now, remove");
  const show = (client: Client, global: { json?: boolean }, info: Awaited<ReturnType<Client["getSchedule"]>>): void => {
    if (global.json) printJson(info);
    else process.stdout.write(`${formatSchedule(info)}\n`);
  };

  schedule
    .command("add <id> <task>")
    .description("create a schedule: --cron EXPR [--tz ZONE] or --every DURATION")
    .option("--cron <expr>", 'cron expression, e.g. "0 3 * * *" (5 fields: minute hour day month weekday; or 6, seconds first)')
    .option("--tz <zone>", "IANA time zone for --cron, e.g. Europe/Paris (default UTC)")
    .option("--every <duration>", "fixed interval, e.g. 30s, 5m, 1h30m (aligned to multiples since the epoch)")
    .option("--args <json>", "args of each task, as JSON", "null")
    .addOption(new Option("--priority <priority>", "critical, high, normal or low").choices(PRIORITY_NAMES))
    .addOption(new Option("--misfire <policy>", "when the control plane was down over a tick").choices(["run-once", "skip"]).default("run-once"))
    .addOption(new Option("--overlap <policy>", "while the previous run is unfinished").choices(["allow", "skip", "queue-one"]).default("allow"))
    .option("--paused", "create it paused")
    .action(withClient(async (client, [id, task], opts, global) => {
      let args: unknown;
      try {
        args = jsonOption(opts.args as string, "--args");
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if ((opts.cron === undefined) === (opts.every === undefined)) throw new UsageError("give exactly one of --cron and --every");
      const options: ScheduleOptions & { id: string; task: string; paused: boolean } = {
        id: id!,
        task: task!,
        args,
        misfire: opts.misfire as ScheduleOptions["misfire"],
        overlap: opts.overlap as ScheduleOptions["overlap"],
        paused: Boolean(opts.paused),
        ...(opts.cron !== undefined ? { cron: opts.cron as string } : {}),
        ...(opts.tz !== undefined ? { tz: opts.tz as string } : {}),
        ...(opts.every !== undefined ? { every: opts.every as string } : {}),
        ...(opts.priority !== undefined ? { priority: opts.priority as PriorityName } : {}),
      };
      let info;
      try {
        info = await client.createSchedule(options);
      } catch (err) {
        if (err instanceof TypeError) throw new UsageError(err.message);
        throw err;
      }
      show(client, global, info);
    }));

  schedule
    .command("ls")
    .description("list schedules: next run, last run and its outcome, paused")
    .action(withClient(async (client, _args, _opts, global) => {
      const schedules = await client.listSchedules();
      if (global.json) printJson(schedules);
      else process.stdout.write(`${formatSchedules(schedules)}\n`);
    }));

  schedule
    .command("show <id>")
    .description("one schedule in full")
    .action(withClient(async (client, [id], _opts, global) => show(client, global, await client.getSchedule(id!))));

  schedule
    .command("pause <id>")
    .description("stop its ticks until resumed (ticks in between are skipped)")
    .action(withClient(async (client, [id], _opts, global) => show(client, global, await client.pauseSchedule(id!))));

  schedule
    .command("resume <id>")
    .description("tick again, from the next tick on")
    .action(withClient(async (client, [id], _opts, global) => show(client, global, await client.resumeSchedule(id!))));

  schedule
    .command("run <id>")
    .description("submit its task now, outside its ticks; prints the task's id")
    .action(withClient(async (client, [id], _opts, global) => {
      const taskId = await client.triggerSchedule(id!);
      if (global.json) printJson({ id: taskId });
      else process.stdout.write(`${taskId}\n`);
    }));

  schedule
    .command("rm <id>")
    .description("delete a schedule (a declared one comes back when a worker declaring it registers; pause it instead to stop it)")
    .action(withClient(async (client, [id], _opts, global) => {
      await client.deleteSchedule(id!);
      if (global.json) printJson({ id, deleted: true });
      else process.stdout.write(`${id} deleted\n`);
    }));
}

/** `fw limits [TASK]`, `fw limits set TASK …`, `fw limits clear TASK`. */
export function addLimitCommands(program: Command, withClient: WithClient, UsageError: UsageErrorClass): void {
  const limits = program
    .command("limits [task]")
    .description("flow limits per task name (concurrency, rate), with their use; set or clear run-time overrides")
    .action(withClient(async (client, [task], _opts, global) => {
      const list = await client.listLimits(task);
      if (global.json) printJson(task === undefined ? list : list[0]);
      else process.stdout.write(`${formatLimits(list.filter((l) => l.effective !== undefined || l.declared !== undefined || l.override !== undefined))}\n`);
    }));

  limits
    .command("set <task>")
    .description("override a task name's limits at run time (kept across restarts); unset flags keep the declared value")
    .option("--concurrency <n>", "most running at once across all workers (0: none)", intArg(0, 1_000_000))
    .option("--rate <max/window>", "most starts per window, e.g. 100/1m or 20/1s (0: none)")
    .option("--key <source>", 'per key value: args:/json/pointer or metadata:NAME ("": one limit for the name)')
    .action(withClient(async (client, [task], opts, global) => {
      const limit: Parameters<Client["setLimit"]>[1] = {};
      if (opts.concurrency !== undefined) limit.concurrency = (opts.concurrency as number) || null;
      if (opts.rate !== undefined) {
        const text = opts.rate as string;
        const match = /^(\d+)(?:\/(.+))?$/.exec(text.trim());
        if (match === null || (match[1] !== "0" && match[2] === undefined)) throw new UsageError(`--rate ${JSON.stringify(text)}: use MAX/WINDOW, e.g. 100/1m, or 0`);
        limit.rateLimit = match[1] === "0" ? null : { max: Number(match[1]), perMs: match[2]! };
      }
      if (opts.key !== undefined) limit.limitKey = (opts.key as string) || null;
      if (Object.keys(limit).length === 0) throw new UsageError("give --concurrency, --rate or --key");
      let info;
      try {
        info = await client.setLimit(task!, limit);
      } catch (err) {
        if (err instanceof TypeError) throw new UsageError(err.message);
        throw err;
      }
      if (global.json) printJson(info);
      else process.stdout.write(`${formatLimits([info])}\n`);
    }));

  limits
    .command("clear <task>")
    .description("drop the run-time override: the declared limits apply again")
    .action(withClient(async (client, [task], _opts, global) => {
      const info = await client.clearLimit(task!);
      if (global.json) printJson(info);
      else process.stdout.write(`${formatLimits([info])}\n`);
    }));
}
