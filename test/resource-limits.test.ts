import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectError, TaskFailedError } from "../index.js";
import { GrpcConnection } from "../common/transport/grpc-client.js";
import { MAX_SESSION_SUBMITS } from "../common/stream-limits.js";
import { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import { runCli, spawnNode, startServer } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

let connection: GrpcConnection | undefined;
afterEach(() => {
  connection?.close();
  connection = undefined;
});

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

describe("limits a person runs into", () => {
  it("refuses submissions past --max-queued with RESOURCE_EXHAUSTED, in the Client and in fw submit (exit 1, one line)", async () => {
    const server = await startServer(["--max-queued", "2", "--in-memory"]);
    const client = connect(server);
    await client.submit("nobody-serves-this", {});
    await client.submit("nobody-serves-this", {});
    const refused = await failure(client.submit("nobody-serves-this", {}));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toContain("fw-server --max-queued 2");
    const cli = await runCli(["--server", server.grpc, "submit", "nobody-serves-this", "--args", "{}"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^fw: the control plane holds 2 queued and scheduled tasks, its limit \(fw-server --max-queued 2\); .* \(resource_exhausted\)$/);
  });

  it("refuses args that could not be read back: 1e999 in fw submit (exit 2) and over gRPC, and nesting past 32 levels", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs", "--in-memory"]);
    const cli = await runCli(["--server", server.grpc, "submit", "add", "--args", '{"a":1e999,"b":1}']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe("fw: --args has the number 1e999, too large for a double (it reads as Infinity, which JSON cannot hold)");
    connection = new GrpcConnection({ address: server.grpc });
    const tasks = connection.service(TaskService);
    const huge = await failure(tasks.submit({ task: "add", argsJson: "[1e999]" }));
    expect([huge.code, huge.rawMessage]).toEqual([Code.InvalidArgument, "the args have the number 1e999, too large for a double (it reads as Infinity, which JSON cannot hold)"]);
    const deep = await failure(tasks.submit({ task: "add", argsJson: "[".repeat(101) + "]".repeat(101) }));
    expect([deep.code, deep.rawMessage]).toEqual([Code.InvalidArgument, "the args have arrays or objects nested more than 32 levels deep (the limit)"]);
    // Exactly at the limit: stored, and read back in full (the binary Task message decodes).
    const { id } = await tasks.submit({ task: "nobody", argsJson: "[".repeat(32) + "]".repeat(32) });
    const { task } = await tasks.getTask({ id });
    expect(task?.args).toBeDefined();
  });

  it("ends a Session stream whose one message carries more than 10,000 submissions, creating none of them", async () => {
    const server = await startServer(["--in-memory"]);
    connection = new GrpcConnection({ address: server.grpc });
    const tasks = connection.service(TaskService);
    const session = tasks.session();
    session.send({ submits: Array.from({ length: MAX_SESSION_SUBMITS + 1 }, (_, i) => ({ ref: i + 1, task: { task: "t", argsJson: "1" } })) });
    const err = await (async () => {
      for await (const _ of session.responses) return undefined;
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.ResourceExhausted, rawMessage: expect.stringContaining(`at most ${MAX_SESSION_SUBMITS} submissions (got ${MAX_SESSION_SUBMITS + 1})`) });
    expect((await tasks.listTasks({})).totalSize).toBe(0);
  });

  it("times out an attempt its worker never reports although the worker keeps heartbeating", async () => {
    const server = await startServer(["--timeout-grace", "1", "--in-memory"]);
    const worker = spawnNode("test/fixtures/silent-worker.mjs", [server.grpc, "stuck", "1"]);
    await worker.waitForLine("silent worker ready");
    const client = connect(server);
    const handle = await client.submit("stuck", {});
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).message).toMatch(/TaskTimeoutError: attempt 1 ran \d+\.\ds, past its timeout \(1s\) and --timeout-grace \(1s\), and its worker did not report it/);
    await worker.waitForLine(new RegExp(`^cancel ${handle.id} 1: attempt 1 ran`));
    expect((await client.workers()).map((w) => w.state)).toEqual(["active"]); // its lease was never in doubt
  });
});
