import { afterEach, describe, expect, it } from "vitest";
import { AttemptOutcome } from "../gen/fastworker/v1/task_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { WorkerService, type DispatchResponse, type ReportResultsRequestSchema } from "../gen/fastworker/v1/worker_service_pb.js";
import { GrpcConnection } from "../common/transport/grpc-client.js";
import { Code, ConnectError } from "../index.js";
import { connect } from "./helpers/clients.js";
import { eventually, spawnCommand, startServer, startWorker, tempDataDir } from "./helpers/processes.js";

const connections: GrpcConnection[] = [];
const aborts: AbortController[] = [];
afterEach(() => {
  for (const a of aborts.splice(0)) a.abort();
  for (const c of connections.splice(0)) c.close();
});

function workersAt(address: string) {
  const connection = new GrpcConnection({ address });
  connections.push(connection);
  return connection.service(WorkerService);
}

/** Opens a dispatch stream for a session and resolves with its first message that has assignments. */
function dispatch(workers: ReturnType<typeof workersAt>, request: { workerId: string; sessionSecret: string; held?: { attempts: { taskId: string; attempt: number }[] } }) {
  const abort = new AbortController();
  aborts.push(abort);
  const messages = workers.dispatch(request, { signal: abort.signal }) as AsyncIterable<DispatchResponse>;
  const first = (async () => {
    for await (const m of messages) return m;
    throw new Error("the dispatch stream ended");
  })();
  return { first, abort };
}

async function report(workers: ReturnType<typeof workersAt>, request: MessageInitShape<typeof ReportResultsRequestSchema>) {
  const call = workers.reportResults();
  call.send(request);
  call.end();
  for await (const response of call.responses) return response;
  throw new Error("no answer");
}

describe("worker session secrets across a control-plane crash", () => {
  it("after kill -9 and a restart, the session's results are accepted with its secret, and refused without it", async () => {
    const dataDir = tempDataDir();
    const server = await startServer(["--data-dir", dataDir, "--detach-grace", "30"]);
    const client = connect(server);
    let workers = workersAt(server.grpc);
    const { workerId, sessionSecret } = await workers.registerWorker({ name: "survivor", host: "elsewhere", pid: 4242, concurrency: 1, tasks: [{ name: "job" }] });
    const handle = await client.submit("job", { n: 1 });
    await dispatch(workers, { workerId, sessionSecret }).first;
    await eventually(async () => ((await handle.status()).state === "running" ? true : undefined), "the task to run");
    // The dispatch is written lazily; a report makes it durable (acknowledged).
    await report(workers, { workerId, sessionSecret, acks: [{ taskId: handle.id, attempt: 1 }] });

    await server.stop("SIGKILL");
    const port = server.grpc.split(":").pop()!;
    const again = await startServer(["--data-dir", dataDir, "--port", port, "--detach-grace", "30"]);
    workers = workersAt(again.grpc);

    // Someone who read the id from a listing, without the secret: refused, nothing changes.
    expect((await connect(again).workers()).map((w) => w.id)).toContain(workerId);
    const forged = await report(workers, { workerId, sessionSecret: "", results: [{ taskId: handle.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: '"forged"' }] }).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(ConnectError);
    expect((forged as ConnectError).code).toBe(Code.PermissionDenied);

    // The worker itself, with its secret: reattaches, holding the attempt, and its result is taken.
    dispatch(workers, { workerId, sessionSecret, held: { attempts: [{ taskId: handle.id, attempt: 1 }] } });
    const answer = await eventually(async () => {
      const r = await report(workers, { workerId, sessionSecret, results: [{ taskId: handle.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: '"real"' }] });
      return r.accepted === 1 ? r : undefined;
    }, "the result to be accepted");
    expect(answer.rejected).toEqual([]);
    const after = await connect(again).getTask(handle.id);
    expect(after).toMatchObject({ state: "succeeded", result: "real" });
    expect(after.attempts.map((a) => a.outcome)).toEqual(["succeeded"]);
  });
});

describe("session secrets on one report stream", () => {
  it("every report is checked: after a right secret, a wrong one on the same stream is refused, and another session's right one is taken", async () => {
    const server = await startServer(["--in-memory"]);
    const workers = workersAt(server.grpc);
    const a = await workers.registerWorker({ name: "a", host: "h", pid: 1, concurrency: 1, tasks: [{ name: "job" }] });
    const b = await workers.registerWorker({ name: "b", host: "h", pid: 2, concurrency: 1, tasks: [{ name: "job" }] });
    const call = workers.reportResults();
    const answers = call.responses[Symbol.asyncIterator]();
    call.send({ workerId: a.workerId, sessionSecret: a.sessionSecret });
    expect((await answers.next()).done).toBe(false);
    call.send({ workerId: b.workerId, sessionSecret: b.sessionSecret });
    expect((await answers.next()).done).toBe(false);
    call.send({ workerId: b.workerId, sessionSecret: a.sessionSecret });
    const refused = await answers.next().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.PermissionDenied);
    expect((refused as ConnectError).rawMessage).toMatch(/wrong session secret/);
  });
});

describe("audit lines for workers", () => {
  it("a second dispatch stream of the same session takes over, with a warning saying from where", async () => {
    const server = await startServer();
    const workers = workersAt(server.grpc);
    const { workerId, sessionSecret } = await workers.registerWorker({ name: "twice", host: "h", pid: 1, concurrency: 1, tasks: [{ name: "job" }] });
    await dispatch(workers, { workerId, sessionSecret }).first;
    await dispatch(workers, { workerId, sessionSecret }).first;
    const line = JSON.parse(await server.waitForLine("was taken over by a new stream")) as Record<string, unknown>;
    expect(line).toMatchObject({ audit: true, level: 40, worker: "twice", workerId, credential: "none", peer: expect.stringMatching(/127\.0\.0\.1/) });
  });
});

describe("task definitions: one registration cannot change another worker's", () => {
  it("refuses a conflicting definition while a worker serving it is connected, then takes it once that worker is gone", async () => {
    const server = await startServer(["--detach-grace", "0.5"]);
    const high = await startWorker(server.grpc, ["--tasks", "test/fixtures/shared-high.mjs", "--name", "high"]);
    const low = spawnCommand("fw-worker", ["--server", server.grpc, "--tasks", "test/fixtures/shared-low.mjs", "--name", "low"]);
    const refused = await low.waitForLine("refused this worker");
    expect(refused).toMatch(/task \\?"shared\\?" here has priority low, not high, retry\.maxAttempts unset, not 3 \(the definition of connected worker \\?"high\\?"/);
    expect(refused).toMatch(/stop those workers first/);
    const client = connect(server);
    expect(await client.run("shared", null)).toBe("high");
    expect((await client.workers()).map((w) => w.name)).toEqual(["high"]);
    expect(JSON.parse(await server.waitForLine("registration of worker"))).toMatchObject({ audit: true, level: 40, kind: "definition-conflict", worker: "low" });

    // The old worker leaves; the new one registers on its next try, and its definition applies from then on.
    await high.stop();
    await low.waitForLine(/^fw-worker ready /, 30_000);
    const changed = JSON.parse(await server.waitForLine("definition of task")) as Record<string, unknown>;
    expect(changed).toMatchObject({ audit: true, task: "shared", worker: "low", differences: ["priority low, not high", "retry.maxAttempts unset, not 3"] });
    const handle = await client.submit("shared", null);
    expect(await handle.result()).toBe("low");
    expect((await handle.status()).priority).toBe("low");
  });
});
