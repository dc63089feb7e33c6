import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "../index.js";
import { connect } from "./helpers/clients.js";
import { eventually, runCli, startServer, startWorker, type ServerProc } from "./helpers/processes.js";

const TASKS = "test/fixtures/basic-tasks.mjs";
const port = (server: ServerProc): string => server.grpc.split(":").pop()!;

describe("idempotency keys are scoped per task name and exact about args", () => {
  it("same name and args: the first task; other args: ALREADY_EXISTS naming it; another name: a new task; across a restart", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", TASKS]);
    const cli = (s: ServerProc, ...args: string[]) => runCli(["--server", s.grpc, ...args]);
    // The report in issue 13: a key reused on another task name used to answer the first task's result.
    const echo = await cli(server, "submit", "echo", "--args", '{"msg":"hi"}', "--key", "k1");
    expect(echo.code, echo.stderr).toBe(0);
    const add = await cli(server, "submit", "add", "--args", '{"a":1,"b":2}', "--key", "k1", "--wait");
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe("3");

    const client = connect(server);
    const first = await client.submit("add", { a: 1, b: 2 }, { key: "k2" });
    const same = await client.submit("add", { b: 2, a: 1 }, { key: "k2" }); // the same JSON value, keys in another order
    expect([same.id, same.deduplicated]).toEqual([first.id, true]);
    const conflict = await client.submit("add", { a: 5, b: 5 }, { key: "k2" }).catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(ConnectError);
    expect((conflict as ConnectError).code).toBe(Code.AlreadyExists);
    expect((conflict as ConnectError).rawMessage).toContain(`used by task ${first.id} with different args`);
    const other = await client.submit("echo", { a: 1, b: 2 }, { key: "k2" });
    expect(other.deduplicated).toBe(false);
    expect(other.id).not.toBe(first.id);
    expect(await first.result({ timeoutMs: 10_000 })).toBe(3);
    const cliConflict = await cli(server, "submit", "add", "--args", '{"a":9,"b":9}', "--key", "k2", "--wait");
    expect(cliConflict.code).toBe(1);
    expect(cliConflict.stderr).toMatch(/idempotency key "k2" of task "add" was used by task \S+ with different args.*\(already_exists\)/);

    await server.stop("SIGKILL");
    const again = await startServer(["--data-dir", server.state, "--port", port(server)]);
    const c2 = connect(again);
    const replay = await c2.submit("add", { a: 1, b: 2 }, { key: "k2" });
    expect([replay.id, replay.deduplicated]).toEqual([first.id, true]);
    expect(await replay.result({ timeoutMs: 10_000 })).toBe(3);
    await expect(c2.submit("add", { a: 0, b: 0 }, { key: "k2" })).rejects.toMatchObject({ code: Code.AlreadyExists });
  });

  it("--key-ttl: a key outlives its evicted result, compactly, across a restart", async () => {
    const server = await startServer(["--max-results", "1", "--key-ttl", "3600"]);
    await startWorker(server.grpc, ["--tasks", TASKS]);
    const client = connect(server);
    const keyed = await client.submit("add", { a: 2, b: 2 }, { key: "once" });
    expect(await keyed.result({ timeoutMs: 10_000 })).toBe(4);
    for (let i = 0; i < 3; i++) await (await client.submit("add", { a: i, b: 0 })).result({ timeoutMs: 10_000 }); // pushes it out of --max-results
    // The sweeper drops it (once a second).
    await eventually(() => client.getTask(keyed.id).then(() => undefined, (err: ConnectError) => (err.code === Code.NotFound ? true : undefined)), "the result to be evicted");
    await server.stop("SIGKILL");
    const again = await startServer(["--data-dir", server.state, "--port", port(server), "--max-results", "1", "--key-ttl", "3600"]);
    const c2 = connect(again, { followResults: false });
    const replay = await c2.submit("add", { a: 2, b: 2 }, { key: "once" });
    expect([replay.id, replay.deduplicated]).toEqual([keyed.id, true]); // not run again
    await expect(c2.submit("add", { a: 3, b: 3 }, { key: "once" })).rejects.toMatchObject({ code: Code.AlreadyExists });
    const bad = await runCli(["--server", again.grpc, "submit", "add", "--key-ttl", "1"]);
    expect(bad.code).toBe(2);
  });

  it("fw-server refuses a --key-ttl shorter than --result-ttl", async () => {
    await expect(startServer(["--result-ttl", "60", "--key-ttl", "10"])).rejects.toThrow(/--key-ttl \(10s\) must be at least --result-ttl \(60s\)/);
  });
});

describe("run at a time", () => {
  it("fw submit --at runs the task no sooner than the time; --at with --delay is refused", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", TASKS]);
    const at = new Date(Date.now() + 3000);
    const submitted = await runCli(["--server", server.grpc, "submit", "add", "--args", '{"a":1,"b":1}', "--at", at.toISOString()]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const client = connect(server);
    const askedAt = Date.now();
    const info = await client.getTask(submitted.stdout.trim());
    // On a loaded machine the CLI can take longer than the wait itself; the
    // task must still be waiting whenever it is read before its time.
    if (askedAt < at.getTime() - 500) expect(info.state).toBe("scheduled");
    expect(Math.abs(info.scheduledFor!.getTime() - at.getTime())).toBeLessThan(5);
    expect(await client.result(info.id, { timeoutMs: 10_000 })).toBe(2);
    expect((await client.getTask(info.id)).attempts[0]!.dispatchedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime());
    const past = await client.submit("add", { a: 2, b: 2 }, { runAt: new Date("2001-01-01T00:00:00Z") });
    expect(await past.result({ timeoutMs: 10_000 })).toBe(4);
    await expect(client.submit("add", { a: 1, b: 1 }, { delayMs: 1000, runAt: at })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: "set delay or run_at, not both" });
    const both = await runCli(["--server", server.grpc, "submit", "add", "--delay", "1", "--at", at.toISOString()]);
    expect([both.code, both.stderr]).toEqual([2, "fw: give --delay or --at, not both"]);
    expect((await runCli(["--server", server.grpc, "submit", "add", "--at", "tomorrow"])).code).toBe(2);
  });
});
