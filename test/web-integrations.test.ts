import { describe, expect, it } from "vitest";
import { spawnNode, startServer, startWorker } from "./helpers/processes.js";

// grpc-js traces each call when asked (GRPC_TRACE): the test sees the app's Session call start and,
// after the client's idle close (2 s after the last answer), end cancelled. So it waits for that line
// instead of sleeping past the idle timer, however slow the machine.
const GRPC_TRACE = { GRPC_TRACE: "channel,resolving_call", GRPC_VERBOSITY: "DEBUG" };

// The example apps without tracing: the integration hands handlers a working client and closes it on shutdown.
describe.each(["express", "fastify"] as const)("fastworker/%s", (kind) => {
  it("gives handlers a client, and the app exits on SIGTERM even after its session stream went idle", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "examples/tasks.ts"]);
    const app = spawnNode(`examples/${kind}-app.ts`, [], { NODE_OPTIONS: "--import tsx", FW_SERVER: server.grpc, PORT: "0", ...GRPC_TRACE });
    const url = /(http:\/\/\S+)/.exec(await app.waitForLine(/listening http:\/\//, 60_000))![1]!;
    const response = await fetch(`${url}/add?wait=1`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":20,"b":22}' });
    expect(await response.json()).toMatchObject({ sum: 42 });
    // The path where an app once hung on exit: its session stream closed for being idle, then SIGTERM.
    const session = /createResolvingCall \[(\d+)\]/.exec(await app.waitForLine('method="/fastworker.v1.TaskService/Session"'))![1]!;
    await app.waitForLine(new RegExp(`\\| resolving_call \\| \\[${session}\\] cancelWithStatus code: 1 `));
    expect(await app.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
