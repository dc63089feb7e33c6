import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { eventually, runCli, startServer, startWorker } from "./helpers/processes.js";

// Stuck work is visible and a task name can be paused (issue 16, items 3 and 4), through `fw`
// against real processes. The dashboard's side is in dashboard-operations.test.ts.

const TASKS = "test/fixtures/dashboard-tasks.mjs";

interface NameRow {
  name: string;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  workers: number;
  paused: boolean;
  runTime?: { p50Ms: number; p95Ms: number; samples: number };
}

describe("per-task-name stats", () => {
  it("fw stats lists every name with its counts, workers and run times, and warns about names no connected worker serves", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const client = connect(server);
    await Promise.all([1, 2, 3, 4].map((a) => client.run("add", { a, b: 1 })));
    await expect(client.run("fails-once", { key: "k" })).rejects.toThrow("fails on purpose");
    for (let i = 0; i < 3; i++) await client.submit("nobody-serves-this", { i });

    const json = await runCli(["--server", server.grpc, "--json", "stats"]);
    expect(json.code, json.stderr).toBe(0);
    const rows = (JSON.parse(json.stdout) as { taskNames: NameRow[] }).taskNames;
    // The most queued first; names workers declared are listed even with no task yet.
    expect(rows[0]).toMatchObject({ name: "nobody-serves-this", queued: 3, workers: 0, paused: false });
    const add = rows.find((r) => r.name === "add")!;
    expect(add).toMatchObject({ queued: 0, succeeded: 4, failed: 0, workers: 1 });
    expect(add.runTime?.samples).toBe(4);
    expect(add.runTime!.p95Ms).toBeGreaterThanOrEqual(add.runTime!.p50Ms);
    expect(rows.find((r) => r.name === "fails-once")).toMatchObject({ failed: 1, workers: 1 });
    expect(rows.find((r) => r.name === "sleep")).toMatchObject({ queued: 0, succeeded: 0, workers: 1 });

    const text = await runCli(["--server", server.grpc, "stats"]);
    expect(text.stdout).toContain('warning: no connected worker serves "nobody-serves-this": its 3 waiting tasks cannot run until one does');
    expect(text.stdout).toMatch(/^TASK\s+QUEUED\s+SCHEDULED\s+RUNNING\s+SUCCEEDED\s+FAILED\s+CANCELLED\s+WORKERS\s+P50\s+P95$/m);
    expect(text.stdout).toMatch(/^nobody-serves-this\s+3\s+0\s+0\s+0\s+0\s+0\s+0 \(none!\)\s+-\s+-$/m);
    expect(text.stdout).toMatch(/^add\s+0\s+0\s+0\s+4\s+0\s+0\s+1\s+\d+ ms\s+\d+ ms$/m);
    // Served names get no warning.
    expect(text.stdout).not.toContain('serves "add"');
    const status = await runCli(["--server", server.grpc, "status", (await client.listTasks({ task: "nobody-serves-this" })).tasks[0]!.id]);
    expect(status.stdout).toContain('no connected worker serves "nobody-serves-this"');
  });
});

describe("pause and resume a task name", () => {
  it("a paused name's tasks queue but are not dispatched; resume runs them in order; the pause survives a restart", async () => {
    const server = await startServer([]); // durable: a temporary data directory
    const worker = await startWorker(server.grpc, ["--tasks", TASKS]);
    const client = connect(server);
    const paused = await runCli(["--server", server.grpc, "pause", "add"]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toBe("add paused; 0 queued");
    const first = await client.submit("add", { a: 1, b: 1 });
    const second = await client.submit("add", { a: 2, b: 2 });
    // Other names still run while "add" waits.
    expect(await client.run("fails-once", { key: "x" }).catch((e: Error) => e.message)).toContain("fails on purpose");
    expect((await first.status()).state).toBe("queued");
    expect((await first.status()).statusMessage).toMatch(/^"add" is paused; it stays queued until resumed/);
    const listed = (await client.taskNames()).names.find((n) => n.name === "add")!;
    expect(listed).toMatchObject({ paused: true, queued: 2, workers: 1 });
    expect(listed.pausedAt).toBeInstanceOf(Date);
    const stats = await runCli(["--server", server.grpc, "stats"]);
    expect(stats.stdout).toMatch(/^paused: "add" since \d{4}-\d\d-\d\dT[\d:.]+Z; 2 queued \(fw resume add\)$/m);
    expect(stats.stdout).toMatch(/^add \(paused\)\s+2\s/m);

    // Kept across a restart (the data directory's store), with the queued tasks.
    await worker.stop("SIGTERM");
    const port = server.grpc.split(":").pop()!;
    expect(await server.stop()).toMatchObject({ code: 0 });
    const again = await startServer(["--data-dir", server.state, "--port", port]);
    await startWorker(again.grpc, ["--tasks", TASKS]);
    const after = connect(again);
    expect((await after.taskNames()).names.find((n) => n.name === "add")).toMatchObject({ paused: true, queued: 2, workers: 1 });
    expect((await after.getTask(first.id)).state).toBe("queued");

    const resumed = await runCli(["--server", again.grpc, "--json", "resume", "add"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ name: "add", paused: false });
    await eventually(async () => ((await after.getTask(second.id)).state === "succeeded" ? true : undefined), "the resumed tasks to run");
    expect((await after.getTask(first.id)).result).toBe(2);
    // An empty name is refused with a reason.
    const bad = await runCli(["--server", again.grpc, "pause", ""]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/task name.*\(invalid_argument\)$/);
  });
});
