import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { spawnNode, startServer, startWorker } from "./helpers/processes.js";

// The example apps without tracing: the integration hands handlers a working client and closes it on shutdown.
describe.each(["express", "fastify"] as const)("fastworker/%s", (kind) => {
  it("gives handlers a client, and the app exits on SIGTERM even after its session stream went idle", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "examples/tasks.ts"]);
    const app = spawnNode(`examples/${kind}-app.ts`, [], { NODE_OPTIONS: "--import tsx", FW_SERVER: server.grpc, PORT: "0" });
    const url = /(http:\/\/\S+)/.exec(await app.waitForLine(/listening http:\/\//, 60_000))![1]!;
    const response = await fetch(`${url}/add?wait=1`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":20,"b":22}' });
    expect(await response.json()).toMatchObject({ sum: 42 });
    // Longer than the client's idle close of its session stream (2 s): the path where an app once hung on exit.
    await sleep(2500);
    expect(await app.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
