import { afterEach, describe, expect, it } from "vitest";
import { Client, ConnectError, TaskFailedError, taskRef } from "../index.js";
import type { multiply } from "./fixtures/typed-tasks.js";
import { startServer, startWorker } from "./helpers/processes.js";

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe("submit → queue → worker → result, as real processes", () => {
  it("runs a task on the control plane's embedded worker and returns its result", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = new Client({ server: server.grpc });
    const handle = await client.submit("add", { a: 1, b: 2 });
    expect(handle.id).toMatch(/^[0-9a-z]{11,16}$/);
    expect(await handle.result()).toBe(3);
    const info = await client.getTask(handle.id);
    expect(info).toMatchObject({ state: "succeeded", name: "add", args: { a: 1, b: 2 }, result: 3, attempt: 1 });
    expect(info.attempts).toHaveLength(1);
    expect(info.attempts[0]).toMatchObject({ outcome: "succeeded" });
  });

  it("runs tasks on a separate fw-worker, by name and by typed handle (.ts module)", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "test/fixtures/typed-tasks.ts"]);
    client = new Client({ server: server.grpc });
    const multiplyTask = taskRef<typeof multiply>("multiply");
    const product: { product: number } = await client.run(multiplyTask, { x: 6, y: 7 });
    expect(product).toEqual({ product: 42 });
    const byName = await client.submit("multiply", { x: 2, y: 3 });
    expect(await byName.result()).toEqual({ product: 6 });
  });

  it("batches many submissions and waits for all results over one stream", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs", "--concurrency", "64"]);
    client = new Client({ server: server.grpc });
    const n = 2000;
    const handles = await Promise.all(Array.from({ length: n }, (_, i) => client!.submit("echo", { i })));
    expect(new Set(handles.map((h) => h.id)).size).toBe(n);
    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results).toEqual(Array.from({ length: n }, (_, i) => ({ i })));
    const stats = await client.stats();
    expect(stats.totals.submitted).toBe(n);
    expect(stats.totals.succeeded).toBe(n);
  });

  it("reports a failed task's error with its type and stack", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = new Client({ server: server.grpc });
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
    client = new Client({ server: server.grpc });
    const handle = await client.submit("sleep", { ms: 200 });
    const early = await client.getTask(handle.id);
    expect(["queued", "running"]).toContain(early.state);
    const done = await client.waitTask(handle.id);
    expect(done).toMatchObject({ state: "succeeded", result: { slept: 200 } });
  });

  it("resolves every waiter of a task, even when another waiter on it gave up", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = new Client({ server: server.grpc });
    const handle = await client.submit("sleep", { ms: 400 });
    const impatient = handle.result({ timeoutMs: 50 });
    const patient = handle.result();
    await expect(impatient).rejects.toMatchObject({ code: 4 });
    expect(await patient).toEqual({ slept: 400 });
  });

  it("fails with NOT_FOUND for an unknown id", async () => {
    const server = await startServer();
    client = new Client({ server: server.grpc });
    const err = await client.getTask("no-such-task").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(5);
    await expect(client.result("no-such-task")).rejects.toThrow(/unknown id/);
  });
});
