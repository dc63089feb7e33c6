import { describe, expect, it } from "vitest";
import { Client, ConnectError, TaskFailedError, taskRef } from "../index.js";
import type { multiply } from "./fixtures/typed-tasks.js";
import { spawnNode, startServer, startWorker } from "./helpers/processes.js";
import { GrpcConnection } from "../common/transport/grpc-client.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import { AttemptOutcome } from "../gen/fastworker/v1/task_pb.js";
import { connect } from "./helpers/clients.js";

let client: Client;

describe("submit → queue → worker → result, as real processes", () => {
  it("runs a task on the control plane's embedded worker and returns its result", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("add", { a: 1, b: 2 });
    expect(handle.id).toMatch(/^[0-9a-z]{17}$/);
    expect(await handle.result()).toBe(3);
    const info = await client.getTask(handle.id);
    expect(info).toMatchObject({ state: "succeeded", name: "add", args: { a: 1, b: 2 }, result: 3, attempt: 1 });
    expect(info.attempts).toHaveLength(1);
    expect(info.attempts[0]).toMatchObject({ outcome: "succeeded" });
  });

  it("runs tasks on a separate fw-worker, by name and by typed handle (.ts module)", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "test/fixtures/typed-tasks.ts"]);
    client = connect(server);
    const multiplyTask = taskRef<typeof multiply>("multiply");
    const product: { product: number } = await client.run(multiplyTask, { x: 6, y: 7 });
    expect(product).toEqual({ product: 42 });
    const byName = await client.submit("multiply", { x: 2, y: 3 });
    expect(await byName.result()).toEqual({ product: 6 });
  });

  it("batches many submissions and waits for all results over one stream", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs", "--concurrency", "64"]);
    client = connect(server);
    const n = 2000;
    const handles = await Promise.all(Array.from({ length: n }, (_, i) => client.submit("echo", { i })));
    expect(new Set(handles.map((h) => h.id)).size).toBe(n);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results).toEqual(Array.from({ length: n }, (_, i) => ({ i })));
    const stats = await client.stats();
    expect(stats.totals.submitted).toBe(n);
    expect(stats.totals.succeeded).toBe(n);
  });

  it("reports a failed task's error with its type and stack", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("boom", { message: "kaput" });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).error).toMatchObject({ type: "TypeError", message: "kaput" });
    const info = await client.getTask(handle.id);
    expect(info.state).toBe("failed");
    expect(info.error?.stack).toContain("basic-tasks.mjs");
  });

  it("answers polls (GetTask) and long polls (WaitTask) for the same task", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("sleep", { ms: 200 });
    const early = await client.getTask(handle.id);
    expect(["queued", "running"]).toContain(early.state);
    const done = await client.waitTask(handle.id);
    expect(done).toMatchObject({ state: "succeeded", result: { slept: 200 } });
  });

  it("resolves every waiter of a task, even when another waiter on it gave up", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("sleep", { ms: 400 });
    const impatient = handle.result({ timeoutMs: 50 });
    const patient = handle.result();
    await expect(impatient).rejects.toMatchObject({ code: 4 });
    expect(await patient).toEqual({ slept: 400 });
  });

  it("keeps the session working when one wait asks for an invalid id", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    await expect(client.result("")).rejects.toMatchObject({ code: 3 });
    await expect(client.result("x".repeat(300))).rejects.toMatchObject({ code: 3 });
    expect(await client.run("add", { a: 2, b: 3 })).toBe(5);
  });

  it("lets a process exit after it gave up waiting and closed its client", async () => {
    const server = await startServer();
    const proc = spawnNode("test/fixtures/give-up-and-exit.mjs", [server.grpc]);
    await proc.waitForLine("gave up: 4");
    await proc.waitForLine("closed");
    expect(await proc.exited).toMatchObject({ code: 0 });
  });

  it("fails the attempt when a worker reports a result that is not JSON, and the task stays readable", async () => {
    const server = await startServer();
    client = connect(server);
    const connection = new GrpcConnection({ address: server.grpc });
    try {
      const workers = connection.service(WorkerService);
      const { workerId, sessionSecret } = await workers.registerWorker({ name: "sloppy", concurrency: 1, tasks: [{ name: "job" }] });
      const handle = await client.submit("job", {});
      const assignments = workers.dispatch({ workerId, sessionSecret })[Symbol.asyncIterator]();
      let attempt = 0;
      while (attempt === 0) attempt = (await assignments.next()).value.assignments[0]?.attempt ?? 0;
      const reports = workers.reportResults();
      reports.send({ workerId, sessionSecret, results: [{ taskId: handle.id, attempt, outcome: AttemptOutcome.SUCCEEDED, resultJson: "{not json" }] });
      await reports.responses[Symbol.asyncIterator]().next();
      reports.cancel();
      await expect(handle.result()).rejects.toMatchObject({ error: { type: "InvalidResult" } });
      expect((await client.getTask(handle.id)).state).toBe("failed");
    } finally {
      connection.close();
    }
  });

  it("fails with NOT_FOUND for an unknown id", async () => {
    const server = await startServer();
    client = connect(server);
    const err = await client.getTask("no-such-task").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(5);
    await expect(client.result("no-such-task")).rejects.toThrow(/unknown id/);
  });
});
