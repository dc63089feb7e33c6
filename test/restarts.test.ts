import { describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { eventually, startServer, startWorker } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

let client: Client;

const registrations = (lines: string[]): number => lines.filter((l) => l.includes("registered with the control plane")).length;

describe("restarts", () => {
  it("keeps working when a worker is killed and another one starts", async () => {
    const server = await startServer();
    const first = await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    expect(await client.run("add", { a: 1, b: 1 })).toBe(2);
    await first.stop("SIGKILL");
    const queued = await client.submit("add", { a: 2, b: 2 });
    await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs"]);
    expect(await queued.result()).toBe(4);
  });

  it("a worker reconnects by itself when the control plane restarts on the same address", async () => {
    const first = await startServer();
    const worker = await startWorker(first.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const port = first.grpc.split(":").pop()!;
    expect(await first.stop()).toMatchObject({ code: 0 });

    const second = await startServer(["--port", port]);
    expect(second.grpc).toBe(first.grpc);
    await eventually(() => (registrations(worker.stderr) >= 2 ? true : undefined), "the worker to register again");
    client = connect(second);
    expect(await client.run("add", { a: 20, b: 22 })).toBe(42);
    expect(worker.running).toBe(true);
  });

  it("drains on SIGTERM: the running task finishes, then the worker exits 0", async () => {
    const server = await startServer();
    const worker = await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("sleep", { ms: 1000 });
    await eventually(async () => ((await handle.status()).state === "running" ? true : undefined), "the task to start");
    expect(await worker.stop("SIGTERM")).toMatchObject({ code: 0 });
    expect(await handle.result()).toEqual({ slept: 1000 });
    await eventually(async () => ((await client.workers()).length === 0 ? true : undefined), "the drained worker to leave");
  });
});
