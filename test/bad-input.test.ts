import { afterEach, describe, expect, it } from "vitest";
import { Client, ConnectError } from "../index.js";
import { GrpcConnection } from "../common/transport/grpc-client.js";
import { valueToJson } from "../common/json.js";
import { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import type { Priority } from "../gen/fastworker/v1/task_pb.js";
import { Code } from "@connectrpc/connect";
import { spawnCommand, startServer } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

let connection: GrpcConnection | undefined;
afterEach(async () => {
  connection?.close();
  connection = undefined;
});

async function rpcError(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  return { code: (err as ConnectError).code, message: (err as ConnectError).rawMessage };
}

describe("bad input gets a precise status and never stops the server", () => {
  it("rejects bad submissions with INVALID_ARGUMENT / RESOURCE_EXHAUSTED / NOT_FOUND", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs", "--max-payload", "1KiB"]);
    connection = new GrpcConnection({ address: server.grpc });
    const tasks = connection.service(TaskService);

    expect(await rpcError(tasks.submit({ task: "add", argsJson: "{bad" }))).toEqual({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/^the args are not valid JSON: /),
    });
    expect(await rpcError(tasks.submit({ task: "" }))).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("task name is empty") });
    expect(await rpcError(tasks.submit({ task: "x".repeat(201) }))).toMatchObject({
      code: Code.InvalidArgument,
      message: "the task name is 201 characters; the limit is 200",
    });
    expect(await rpcError(tasks.submit({ task: "add", priority: 9 as Priority }))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("unknown priority 9"),
    });
    expect(await rpcError(tasks.submit({ task: "add", argsJson: JSON.stringify({ pad: "x".repeat(2000) }) }))).toMatchObject({
      code: Code.ResourceExhausted,
      message: expect.stringContaining("the args are 2,010 bytes (1.96 KiB); the limit is 1,024 bytes (1 KiB) (fw-server --max-payload)"),
    });
    // Larger than the transport accepts at all: grpc-js refuses it before our code sees it.
    expect((await rpcError(tasks.submit({ task: "add", argsJson: JSON.stringify("x".repeat(20 * 1024 * 1024)) }))).code).toBe(Code.ResourceExhausted);
    for (const call of [tasks.getTask({ id: "nope" }), tasks.waitTask({ id: "nope" }), tasks.cancelTask({ id: "nope" }), tasks.retryTask({ id: "nope" })]) {
      expect(await rpcError(call)).toMatchObject({ code: Code.NotFound, message: expect.stringContaining('no task "nope"') });
    }
    expect((await rpcError(tasks.listTasks({ pageToken: "garbage" }))).code).toBe(Code.InvalidArgument);

    // A batch with one bad item: the others are accepted, the bad one says why.
    const batch = await tasks.submitBatch({ tasks: [{ task: "add", argsJson: '{"a":1,"b":1}' }, { task: "", argsJson: "1" }, { task: "add", argsJson: "[" }] });
    expect(batch.results[0]!.id).not.toBe("");
    expect(batch.results[1]!.error).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("task 1: the task name is empty") });
    expect(batch.results[2]!.error).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("task 2: the args are not valid JSON") });

    // A result over the payload limit fails the task instead of being stored.
    const client = connect(server);
    await expect(client.run("big", { bytes: 4096 })).rejects.toThrow("ResultTooLarge: the result is 4,098 bytes (4 KiB); the limit is 1,024 bytes (1 KiB)");

    // Still serving.
    expect(await client.run("add", { a: 1, b: 2 })).toBe(3);
    expect(server.running).toBe(true);
  });

  it("says exact sizes for a payload just over the limit, and refuses numbers JSON cannot carry instead of storing them", async () => {
    const server = await startServer(["--in-memory"]);
    connection = new GrpcConnection({ address: server.grpc });
    const tasks = connection.service(TaskService);
    // 1.05 MiB against 1 MiB: rounded alone, both read "1 MiB".
    const argsJson = JSON.stringify("x".repeat(1_101_002));
    expect(await rpcError(tasks.submit({ task: "echo", argsJson }))).toEqual({
      code: Code.ResourceExhausted,
      message: "the args are 1,101,004 bytes (1.05 MiB); the limit is 1,048,576 bytes (1 MiB) (fw-server --max-payload); pass a reference (a URL, a key) to large data instead",
    });
    // 1e999 parses as Infinity: stored, it would read back as null or not at all.
    expect(await rpcError(tasks.submit({ task: "echo", argsJson: '{"n":[1,1e999]}' }))).toEqual({
      code: Code.InvalidArgument,
      message: "the args have the number 1e999, too large for a double (it reads as Infinity, which JSON cannot hold)",
    });
    expect(await rpcError(tasks.submit({ task: "echo", argsJson: "-1E+400" }))).toMatchObject({ code: Code.InvalidArgument });
    // The same characters in a string, and large but finite numbers, are fine.
    const { id } = await tasks.submit({ task: "echo", argsJson: '{"s":"1e999","n":1.7e308}' });
    expect(valueToJson((await tasks.getTask({ id })).task!.args!)).toEqual({ s: "1e999", n: 1.7e308 });
    expect(server.running).toBe(true);
  });

  it("answers a malformed URL on the HTTP port with 400 and keeps serving", async () => {
    const server = await startServer();
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(server.http);
      request({ host: url.hostname, port: url.port, path: "/%E0%A4%A", method: "GET" }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on("error", reject).end();
    });
    expect(status).toBe(400);
    const stats = await fetch(`${server.http}/fastworker.v1.AdminService/GetStats`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(stats.status).toBe(200);
    expect(server.running).toBe(true);
  });

  it("answers a dispatch stream for an unknown worker session with NOT_FOUND, and bad worker definitions with INVALID_ARGUMENT", async () => {
    const server = await startServer();
    connection = new GrpcConnection({ address: server.grpc });
    const workers = connection.service(WorkerService);
    const stream = workers.dispatch({ workerId: "no-such-session" });
    const err = await (async () => {
      for await (const _ of stream) return undefined;
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.NotFound, rawMessage: expect.stringContaining("register again") });
    const badPriority = await rpcError(workers.registerWorker({ name: "w", concurrency: 1, tasks: [{ name: "t", priority: 7 as Priority }] }));
    expect(badPriority).toEqual({ code: Code.InvalidArgument, message: 'task "t": unknown priority 7' });
  });

  it("holds a 30-day delay without waking up early, and refuses timeouts past 24 days", async () => {
    const server = await startServer();
    const client = connect(server);
    const later = await client.submit("anything", {}, { delayMs: 30 * 24 * 3600_000 });
    expect((await later.status()).state).toBe("scheduled");
    await expect(client.submit("anything", {}, { timeoutMs: 30 * 24 * 3600_000 })).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect((await later.status()).state).toBe("scheduled");
    expect(server.stderr.join("\n")).not.toContain("TimeoutOverflowWarning");
  });

  it("rejects an unknown enum name over Connect JSON with invalid_argument", async () => {
    const server = await startServer();
    const response = await fetch(`${server.http}/fastworker.v1.TaskService/Submit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task: "add", priority: "PRIORITY_URGENT" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });

  it.each([
    ["a module that throws on import", "test/fixtures/throws-on-import.mjs", /^fw-worker: task module test\/fixtures\/throws-on-import\.mjs failed to load: Error: this module is broken on purpose$/],
    ["a module that exports no tasks", "test/fixtures/exports-nothing.mjs", /^fw-worker: task module test\/fixtures\/exports-nothing\.mjs exports no tasks: /],
    ["a module that does not exist", "test/fixtures/missing.mjs", /^fw-worker: task module test\/fixtures\/missing\.mjs not found/],
  ])("fw-worker refuses %s with one clear line", async (_what, module, message) => {
    const worker = spawnCommand("fw-worker", ["--server", "127.0.0.1:1", "--tasks", module]);
    expect((await worker.exited).code).toBe(1);
    expect(worker.stderr).toHaveLength(1);
    expect(worker.stderr[0]).toMatch(message);
  });

  it("fw-server refuses a broken task module before listening", async () => {
    const server = spawnCommand("fw-server", ["--port", "0", "--http-port", "0", "--tasks", "test/fixtures/throws-on-import.mjs"]);
    expect((await server.exited).code).toBe(1);
    expect(server.stdout).toEqual([]);
    expect(server.stderr.at(-1)).toMatch(/^fw-server: task module .* failed to load: Error: this module is broken on purpose$/);
  });

  it("fw-server refuses bad flags and a port in use", async () => {
    const badFlag = spawnCommand("fw-server", ["--port", "-1"]);
    expect((await badFlag.exited).code).not.toBe(0);
    expect(badFlag.stderr.join("\n")).toContain("expected a whole number from 0 to 65535");

    const first = await startServer();
    const port = first.grpc.split(":").pop()!;
    const second = spawnCommand("fw-server", ["--port", port, "--http-port", "0"]);
    expect((await second.exited).code).toBe(1);
    // One line, not grpc-js's own "E No address added …" before it (cli/grpc-logs.ts).
    expect(second.stderr.filter((l) => l.trim() !== "")).toHaveLength(1);
    expect(second.stderr.at(-1)).toMatch(/^fw-server: cannot listen on 127\.0\.0\.1:\d+ .*the port is in use/);
  });
});
