import { afterEach, describe, expect, it } from "vitest";
import { Client, TaskFailedError } from "../index.js";
import { eventually, startServer, startWorker } from "./helpers/processes.js";

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe('tasks with isolation: "thread"', () => {
  it("run in a worker thread and report their result", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "test/fixtures/thread-tasks.mjs"]);
    client = new Client({ server: server.grpc });
    const result = (await client.run("fib", { n: 20 })) as { fib: number; threadId: number };
    expect(result.fib).toBe(6765);
    expect(result.threadId).toBeGreaterThan(0);
    expect(await client.run("main-thread", {})).toEqual({ threadId: 0 });
  });

  it("are stopped for real when they ignore their timeout: the thread is terminated, the slot comes back", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "test/fixtures/thread-tasks.mjs", "--concurrency", "2", "--abort-grace", "0.2"]);
    client = new Client({ server: server.grpc });
    const spun = await client.submit("spin", {});
    const err = await spun.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).error.message).toBe(
      "the attempt timed out after 0.3s; the handler did not stop within 0.2s of its abort signal, so its thread was terminated",
    );
    // The worker stays responsive and keeps its full capacity.
    expect(((await client.run("fib", { n: 10 })) as { fib: number }).fib).toBe(55);
    await eventually(async () => ((await client!.workers())[0]?.capacity === 2 ? true : undefined), "full capacity");
  });
});
