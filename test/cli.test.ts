import { describe, expect, it } from "vitest";
import { runCli, startServer } from "./helpers/processes.js";

describe("fw CLI against a real control plane", () => {
  it("submit --wait prints the result; status, result, tasks, workers and stats work, with --json too", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);

    const waited = await fw("submit", "add", "--args", '{"a":1,"b":2}', "--wait");
    expect(waited).toMatchObject({ code: 0, stdout: "3" });

    const submitted = await fw("--json", "submit", "echo", "--args", '{"hello":"world"}', "--priority", "high");
    expect(submitted.code).toBe(0);
    const { id } = JSON.parse(submitted.stdout) as { id: string };

    const result = await fw("result", id, "--wait");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ hello: "world" });

    const status = await fw("status", id);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("state:     succeeded");
    expect(status.stdout).toContain("priority:  high");

    const statusJson = JSON.parse((await fw("--json", "status", id)).stdout);
    expect(statusJson).toMatchObject({ id, state: "succeeded", priority: "high", result: { hello: "world" } });

    const tasks = JSON.parse((await fw("--json", "tasks", "--state", "succeeded")).stdout);
    expect(tasks.total).toBe(2);
    expect(tasks.tasks.map((t: { name: string }) => t.name)).toEqual(["echo", "add"]);
    expect((await fw("tasks", "--task", "add")).stdout).toMatch(/add\s+succeeded/);

    const workers = JSON.parse((await fw("--json", "workers")).stdout);
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ state: "active", concurrency: 16, succeeded: 2 });
    expect((await fw("workers")).stdout).toMatch(/embedded-\d+\s+active/);

    const stats = JSON.parse((await fw("--json", "stats")).stdout);
    expect(stats).toMatchObject({ workers: 1, succeeded: 2, totals: { submitted: 2, succeeded: 2 } });
    const statsText = (await fw("stats")).stdout;
    expect(statsText).toMatch(/^succeeded:  2 kept, 2 since start$/m);
    expect(statsText).toMatch(/^submitted:  2 since start, 0 retried$/m);
    expect((await fw("workers")).stdout).toMatch(/ATTEMPTS\s+FAILED ATTEMPTS/);
  });

  it("fails with one clear line and a non-zero exit code", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);

    const badJson = await fw("submit", "add", "--args", "{not json");
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/^fw: --args is not valid JSON/);
    expect(badJson.stderr.split("\n")).toHaveLength(1);

    const unknown = await fw("status", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('fw: no task "nope": unknown id, or its result expired (kept 3600s, at most 10000 results) (not_found)');

    const emptyName = await fw("submit", "");
    expect(emptyName.code).toBe(1);
    expect(emptyName.stderr).toMatch(/^fw: the task name is empty.*\(invalid_argument\)$/);

    const failed = await fw("submit", "boom", "--args", '{"message":"kaput"}', "--wait");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^fw: task \S+ failed: TypeError: kaput$/);

    const badPriority = await fw("submit", "add", "--priority", "urgent");
    expect(badPriority.code).toBe(2);
    expect(badPriority.stderr).toContain("urgent");

    const unreachable = await runCli(["--server", "127.0.0.1:1", "stats"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^fw: .*\(unavailable\)$/);

    // What grpc-js itself reports comes in fw's form too, not as its bare "E …" lines (cli/grpc-logs.ts).
    const badProxy = await runCli(["--server", "127.0.0.1:1", "stats"], { grpc_proxy: "http://[" });
    expect(badProxy.code).toBe(1);
    expect(badProxy.stderr.split("\n")).toEqual([expect.stringMatching(/^fw: grpc-js: cannot parse value of "grpc_proxy"/), expect.stringMatching(/^fw: .*\(unavailable\)$/)]);
  });

  it("`result` without --wait says a running task is not finished (exit 3)", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const { stdout: id } = await fw("submit", "sleep", "--args", '{"ms":5000}');
    const early = await fw("result", id);
    expect(early.code).toBe(3);
    expect(early.stderr).toMatch(/is (queued|running), not finished/);
  });

  it("`status` says the attempt within its series after a retry, and a progress label once", async () => {
    const server = await startServer(["--tasks", "test/fixtures/dashboard-tasks.mjs"]);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);

    const { stdout: id } = await fw("submit", "always-fails", "--max-attempts", "2");
    expect((await fw("result", id, "--wait")).code).toBe(1);
    expect((await fw("status", id)).stdout).toMatch(/^attempt: {3}2 of 2$/m);
    expect((await fw("retry", id)).code).toBe(0);
    expect((await fw("result", id, "--wait")).code).toBe(1);
    const retried = (await fw("status", id)).stdout;
    // Not "attempt 4 of 2": the second series' second attempt.
    expect(retried).toMatch(/^attempt: {3}2 of 2 · series 2 \(4 dispatches in all\)$/m);
    expect(retried).toMatch(/^ {2}series 2 \(retried\):\n {2}attempt 3: failed on /m);

    const { stdout: slow } = await fw("submit", "progress", "--args", '{"steps":2,"stepMs":30000}');
    let status = "";
    for (let i = 0; i < 100 && !status.includes("progress:"); i++) status = (await fw("status", slow)).stdout; // bounded: each call is a process start
    expect(status).toMatch(/^progress: {2}50% of 60000 ms$/m);
    await fw("cancel", slow);
  });
});
