import { describe, expect, it } from "vitest";
import type { TaskInfo } from "../index.js";
import { allTasks, connect } from "./helpers/clients.js";
import { eventually, runCli, startServer, startWorker, type ServerProc } from "./helpers/processes.js";
import { taskLog } from "./helpers/task-log.js";

const TASKS = "test/fixtures/schedule-tasks.mjs";
const port = (server: ServerProc): string => server.grpc.split(":").pop()!;

const tickOf = (t: TaskInfo): number => Date.parse(t.metadata["fw-tick"]!);

describe("schedules: one task per tick", () => {
  it("three workers and the embedded worker declaring the same schedule: exactly one task per tick over N ticks", async () => {
    const log = taskLog();
    const server = await startServer(["--tasks", TASKS], log.env);
    await Promise.all([1, 2, 3].map(() => startWorker(server.grpc, ["--tasks", TASKS], log.env)));
    const client = connect(server);
    const [schedule] = await client.listSchedules();
    expect(schedule).toMatchObject({ id: "heartbeat", task: "heartbeat", every: "1s", source: "declared", args: { from: "module" } });
    expect(schedule!.conflict).toBeUndefined();
    const N = 6;
    const firstRuns = schedule!.runs;
    await eventually(async () => ((await client.getSchedule("heartbeat")).runs >= firstRuns + N ? true : undefined), `${N} more ticks`, 30_000);
    const info = await client.getSchedule("heartbeat");
    const tasks = await allTasks(client, { task: "heartbeat" });
    const ticks = tasks.map(tickOf).sort((a, b) => a - b);
    // One task per tick: no tick twice, every tick from the first to the last accounted for (run, or counted skipped).
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.length).toBe(info.runs);
    expect(ticks.every((t) => t % 1000 === 0)).toBe(true);
    expect(info.runs + info.skipped).toBeGreaterThanOrEqual((ticks.at(-1)! - ticks[0]!) / 1000 + 1);
    // And each tick's task ran once, on one of the four workers (the log of the tasks themselves).
    await eventually(() => (log.read().filter((e) => e.event === "end").length >= ticks.length ? true : undefined), "the ticks' tasks to run");
    const started = log.read().filter((e) => e.event === "start");
    expect(new Set(started.map((e) => e.tick)).size).toBe(started.length);
  });

  it("a schedule made with fw schedule add runs every second, pauses, resumes, runs now, and goes", async () => {
    const log = taskLog();
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", TASKS], log.env);
    const cli = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const added = await cli("schedule", "add", "quick", "report", "--every", "1s", "--args", '{"n":1}', "--overlap", "skip");
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/when: +every 1s/);
    expect((await cli("schedule", "add", "quick", "report", "--every", "1s")).stderr).toMatch(/exists.*\(already_exists\)/);
    expect((await cli("schedule", "add", "bad", "report", "--cron", "0 3 * * *", "--tz", "Mars/Olympus")).stderr).toMatch(/unknown time zone "Mars\/Olympus".*\(invalid_argument\)/);
    expect((await cli("schedule", "add", "bad", "report", "--every", "1s", "--cron", "* * * * *")).code).toBe(2);
    await eventually(() => (log.read().filter((e) => e.event === "end" && e.schedule === "quick").length >= 2 ? true : undefined), "two ticks run", 20_000);
    const ls = await cli("schedule", "ls");
    expect(ls.stdout).toMatch(/quick\s+report\s+every 1s\s+\S+Z\s+\S+Z \S+ succeeded/);

    expect((await cli("schedule", "pause", "quick")).stdout).toMatch(/state: +paused/);
    const paused = await runCli(["--server", server.grpc, "--json", "schedule", "show", "quick"]);
    const runsWhenPaused = JSON.parse(paused.stdout).runs as number;
    const manual = await cli("schedule", "run", "quick");
    expect(manual.stdout.trim()).toMatch(/^\S{17}$/);
    const client = connect(server);
    expect(await client.result(manual.stdout.trim(), { timeoutMs: 10_000 })).toMatchObject({ tick: expect.any(String) });
    expect((await client.getSchedule("quick")).lastRun).toMatchObject({ taskId: manual.stdout.trim(), manual: true });
    expect((await client.getSchedule("quick")).runs).toBe(runsWhenPaused + 1);

    expect((await cli("schedule", "resume", "quick")).stdout).toMatch(/state: +active/);
    await eventually(async () => ((await client.getSchedule("quick")).runs > runsWhenPaused + 1 ? true : undefined), "a tick after resuming", 10_000);
    expect((await cli("schedule", "rm", "quick")).stdout).toBe("quick deleted");
    expect((await cli("schedule", "show", "quick")).stderr).toMatch(/no schedule "quick".*\(not_found\)/);
  });

  it("schedules survive kill -9; ticks missed while down follow each misfire policy", async () => {
    const server = await startServer(["--log-level", "info"]);
    const client = connect(server);
    // No worker: the tasks just queue; what is checked is which ticks made tasks.
    await client.createSchedule({ id: "m-run", task: "report", every: "1s", misfire: "run-once" });
    await client.createSchedule({ id: "m-skip", task: "report", every: "1s", misfire: "skip" });
    await client.createSchedule({ id: "nightly", task: "report", cron: "0 3 * * *", tz: "Europe/Paris", paused: true });
    await eventually(async () => ((await client.getSchedule("m-skip")).runs >= 1 && (await client.getSchedule("m-run")).runs >= 1 ? true : undefined), "first ticks");
    await server.stop("SIGKILL");
    const killedAt = Date.now();
    // Down across at least two ticks (the clock has to pass them: bounded, about 2 s).
    await eventually(() => (Date.now() >= Math.ceil(killedAt / 1000) * 1000 + 1100 ? true : undefined), "two ticks to pass while down", 5000);

    const again = await startServer(["--data-dir", server.state, "--port", port(server), "--log-level", "info"]);
    const ranLine = await again.waitForLine(/schedule m-run: ran tick \S+ once at recovery/);
    const skippedLine = await again.waitForLine(/schedule m-skip: skipped \d+ tick\(s\) missed/);
    const ranTick = Date.parse(/ran tick (\S+) once/.exec(ranLine)![1]!);
    const skippedUpTo = Date.parse(/\(latest (\S+); misfire policy skip\)/.exec(skippedLine)![1]!);
    expect(ranTick).toBeGreaterThan(killedAt);
    expect(skippedUpTo).toBeGreaterThan(killedAt);
    const c2 = connect(again);
    const schedules = await c2.listSchedules();
    expect(schedules.map((s) => [s.id, s.source, s.paused])).toEqual([["m-run", "api", false], ["m-skip", "api", false], ["nightly", "api", true]]);
    await eventually(async () => ((await c2.getSchedule("m-skip")).runs >= 2 ? true : undefined), "m-skip ticking again after the restart", 10_000);

    const ticks = async (id: string) => (await allTasks(c2, { task: "report" })).filter((t) => t.metadata["fw-schedule"] === id).map(tickOf).sort((a, b) => a - b);
    const run = await ticks("m-run");
    const skip = await ticks("m-skip");
    expect(new Set(run).size).toBe(run.length);
    expect(new Set(skip).size).toBe(skip.length);
    const before = (list: number[]) => Math.max(...list.filter((t) => t <= killedAt));
    // run-once: of the ticks missed while down, exactly one made a task: the latest.
    expect(run.filter((t) => t > before(run) && t <= ranTick)).toEqual([ranTick]);
    // skip: none of them did; ticking goes on after the restart.
    expect(skip.filter((t) => t > before(skip) && t <= skippedUpTo)).toEqual([]);
    expect(skip.at(-1)!).toBeGreaterThan(skippedUpTo);
  });
});
