import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { runCli, spawnCommand, startServer, startWorker } from "./helpers/processes.js";

// Task logs (issue 16, item 8): ctx.log() in a handler, bounded per task, carried in the worker's
// reports, kept with the task (on disk too), printed by `fw logs ID [--follow]`. The dashboard's
// side is in dashboard-operations.test.ts.

const TASKS = "test/fixtures/dashboard-tasks.mjs";
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[attempt 1\] /;

describe("task logs", () => {
  it("fw logs prints a handler's lines; they are bounded (lines cut, a marker, a count) and survive a restart", async () => {
    const server = await startServer([]); // durable: a temporary data directory
    const worker = await startWorker(server.grpc, ["--tasks", TASKS]);
    const client = connect(server);
    const small = await client.submit("chatty", { lines: 3 });
    await small.result();
    const out = await runCli(["--server", server.grpc, "logs", small.id]);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => LINE.test(l))).toBe(true);
    expect(lines.map((l) => l.replace(LINE, ""))).toEqual(["line 1 of 3", "line 2 of 3", "line 3 of 3"]);

    // 1,501 lines, the first 5,000 bytes: the line is cut at 2 KiB, 1,000 lines are kept, then a marker, and the rest counted.
    const big = await client.submit("chatty", { lines: 1500, long: 5000 });
    await big.result();
    const logs = await client.logs(big.id);
    expect(logs.lines).toHaveLength(1001);
    expect(logs.lines[0]!.text).toBe(`${"x".repeat(2048)}…[cut 2952 bytes]`);
    expect(logs.lines[999]!.text).toBe("line 999 of 1500");
    expect(logs.lines[1000]!.text).toMatch(/^…\[log cut: at most 1000 lines and 64 KiB are kept per task; later lines were dropped\]$/);
    expect(logs.dropped).toBe(501);
    expect(logs).toMatchObject({ state: "succeeded", final: true, nextAfter: 1001 });
    expect((await client.logs(big.id, 1000)).lines).toHaveLength(1);
    const text = await runCli(["--server", server.grpc, "logs", big.id]);
    expect(text.stderr).toBe("fw: 501 later lines were dropped (a task keeps at most 1000 lines and 64 KiB)");

    // Kept on disk with the task.
    await worker.stop("SIGTERM");
    const port = server.grpc.split(":").pop()!;
    expect(await server.stop()).toMatchObject({ code: 0 });
    const again = await startServer(["--data-dir", server.state, "--port", port]);
    const after = await runCli(["--server", again.grpc, "logs", small.id]);
    expect(after.stdout).toBe(out.stdout);
    expect((await connect(again).logs(big.id)).dropped).toBe(501);
    const json = await runCli(["--server", again.grpc, "--json", "logs", small.id]);
    expect(JSON.parse(json.stdout.split("\n")[0]!)).toMatchObject({ attempt: 1, text: "line 1 of 3" });
    expect((await runCli(["--server", again.grpc, "logs", "no-such-task"])).stderr).toMatch(/^fw: no task "no-such-task".*\(not_found\)$/);
  });

  it("fw logs --follow prints lines as they come and ends when the task does", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const client = connect(server);
    const slow = await client.submit("chatty", { lines: 5, stepMs: 400 });
    const follow = spawnCommand("fw", ["--server", server.grpc, "logs", slow.id, "--follow"]);
    // The first line shows while the task still runs.
    await follow.waitForLine(/\] line 1 of 5$/);
    expect((await slow.status()).state).toBe("running");
    const { code } = await follow.exited;
    expect(code).toBe(0);
    expect(follow.stdout.map((l) => l.replace(LINE, ""))).toEqual([1, 2, 3, 4, 5].map((i) => `line ${i} of 5`));
  });

  it("takes lines from handlers in task threads too", async () => {
    const server = await startServer(["--in-memory", "--tasks", "test/fixtures/thread-log-tasks.mjs"]);
    const client = connect(server);
    const handle = await client.submit("thread-logs", { n: 2 });
    await handle.result();
    expect((await client.logs(handle.id)).lines.map((l) => l.text)).toEqual(["from the thread 1", "from the thread 2"]);
  });
});
