import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AttemptOutcome } from "../gen/fastworker/v1/task_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  WorkerService,
  type Assignment,
  type DispatchResponse,
  type ReportResultsRequestSchema,
  type ReportResultsResponse,
} from "../gen/fastworker/v1/worker_service_pb.js";
import { GrpcConnection, type ServiceClient } from "../common/transport/grpc-client.js";
import { Client, ConnectError } from "../index.js";
import { eventually, startServer } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

let connection: GrpcConnection | undefined;
const streams: AbortController[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.abort();
  connection?.close();
  connection = undefined;
});

/** The session secrets the fake workers got at registration, by worker id. */
const secrets = new Map<string, string>();

/**
 * Sends one ReportResults request on its own stream, as a (forged or late)
 * worker would, and returns the answer. It presents the session's secret
 * unless the request names one.
 */
async function report(
  workers: ServiceClient<typeof WorkerService>,
  request: MessageInitShape<typeof ReportResultsRequestSchema>,
): Promise<ReportResultsResponse> {
  const call = workers.reportResults();
  call.send({ sessionSecret: secrets.get(request.workerId ?? "") ?? "", ...request });
  call.end();
  for await (const response of call.responses) return response;
  throw new Error("the report stream ended without an answer");
}

/** A hand-driven worker session: registers, opens its stream, and collects what arrives. */
async function fakeWorker(workers: ServiceClient<typeof WorkerService>, client: Client, name: string, concurrency = 1, { autoAck = false } = {}) {
  const { workerId, sessionSecret } = await workers.registerWorker({ name, host: "test", pid: 1, concurrency, tasks: [{ name: "job" }] });
  secrets.set(workerId, sessionSecret);
  const abort = new AbortController();
  streams.push(abort);
  const assignments: Assignment[] = [];
  let lastPing = 0;
  const waiters: (() => void)[] = [];
  void (async () => {
    try {
      // Reports go one after another, as a real worker's do: an acknowledgement always lands before a later heartbeat
      // (a heartbeat echoing a later ping gives up what is still unacknowledged).
      let reports = Promise.resolve();
      for await (const message of workers.dispatch({ workerId, sessionSecret }, { signal: abort.signal }) as AsyncIterable<DispatchResponse>) {
        assignments.push(...message.assignments);
        const acks = autoAck ? message.assignments.map(({ taskId, attempt }) => ({ taskId, attempt })) : [];
        // Answer each ping like a real worker, so this session keeps its lease while the test runs.
        const ping = message.ping > lastPing ? (lastPing = message.ping) : undefined;
        if (acks.length > 0 || ping !== undefined) {
          const request = { workerId, acks, ...(ping === undefined ? {} : { heartbeat: { ping, capacity: concurrency } }) };
          reports = reports.then(async () => {
            await report(workers, request).catch((err: unknown) => {
              if (!abort.signal.aborted) throw err;
            });
          });
        }
        waiters.splice(0).forEach((w) => w());
      }
    } catch {
      // the test aborted the stream, or the control plane gave this session up
    }
  })();
  return {
    workerId,
    assignments,
    get lastPing() {
      return lastPing;
    },
    /** Resolves once `n` assignments arrived; fails after 15 s, saying what the control plane shows. */
    async received(n: number): Promise<Assignment[]> {
      const deadline = Date.now() + 15_000;
      while (assignments.length < n) {
        const left = deadline - Date.now();
        const woke = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), Math.max(0, left));
          waiters.push(() => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!woke) {
          const seen = await client.workers();
          expect.fail(`${name} got ${assignments.length} of ${n} assignments in 15 s; workers: ${JSON.stringify(seen)}`);
        }
      }
      return assignments;
    },
    stopStream: () => abort.abort(),
  };
}

const ok = (taskId: string, attempt: number, value: unknown) => ({
  taskId, attempt, outcome: AttemptOutcome.SUCCEEDED, resultJson: JSON.stringify(value),
});

describe("fencing: late, duplicate and forged reports change nothing", () => {
  it("rejects each bad item with the right status and keeps the task's true result", async () => {
    // The first worker is given up by its closed stream (detach grace); leases stay long so a busy machine loses no one else.
    const server = await startServer(["--heartbeat-interval", "0.2", "--lease-timeout", "10", "--detach-grace", "0.3"]);
    connection = new GrpcConnection({ address: server.grpc });
    const workers = connection.service(WorkerService);
    const client = connect(server);

    // Both acknowledge what they receive at once, as real workers do: with pings every 0.2 s, an acknowledgement sent
    // by the test itself could come after a heartbeat that already gave the attempt up.
    const first = await fakeWorker(workers, client, "first", 1, { autoAck: true });
    const handle = await client.submit("job", { n: 1 });
    const [assignment] = await first.received(1);
    expect(assignment).toMatchObject({ taskId: handle.id, attempt: 1, task: "job", argsJson: '{"n":1}' });

    const second = await fakeWorker(workers, client, "second", 1, { autoAck: true });
    const before = await handle.status();
    const reject = async (workerId: string, results: ReturnType<typeof ok>[]) =>
      (await report(workers, { workerId, results })).rejected.map((r) => [r.status?.code, r.status?.message]);

    // Wrong attempt number, unknown task, another worker's attempt, an outcome that is not a result.
    expect(await reject(first.workerId, [ok(handle.id, 2, "forged")])).toEqual([[Code.NotFound, `task ${handle.id} has no attempt 2`]]);
    expect(await reject(first.workerId, [ok("no-such-task", 1, "forged")])).toEqual([[Code.NotFound, "no task no-such-task (unknown id, or its result expired)"]]);
    expect(await reject(second.workerId, [ok(handle.id, 1, "stolen")])).toEqual([[Code.PermissionDenied, `attempt 1 of task ${handle.id} was given to another worker`]]);
    expect((await reject(first.workerId, [{ ...ok(handle.id, 1, "x"), outcome: AttemptOutcome.RELEASED }]))[0]![0]).toBe(Code.InvalidArgument);
    // A session the control plane never issued: the whole call is refused.
    const unknown = await report(workers, { workerId: "not-a-session", results: [ok(handle.id, 1, "forged")] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ConnectError);
    expect((unknown as ConnectError).code).toBe(Code.NotFound);
    // A flood of forged items in one call.
    const flood = Array.from({ length: 1000 }, (_, i) => ok(i % 2 ? handle.id : `fake-${i}`, 7, "flood"));
    const flooded = await report(workers, { workerId: second.workerId, results: flood });
    expect(flooded).toMatchObject({ accepted: 0 });
    expect(flooded.rejected).toHaveLength(1000);

    const unchanged = await handle.status();
    expect(unchanged).toMatchObject({ state: "running", attempt: 1, workerName: "first" });
    expect(unchanged.attempts).toEqual(before.attempts);

    // The first worker's stream stalls: it is lost, the task goes to the second worker as attempt 2.
    first.stopStream();
    await second.received(1);
    expect(second.assignments[0]).toMatchObject({ taskId: handle.id, attempt: 2 });
    await eventually(async () => ((await handle.status()).attempts[0]?.outcome === "lost" ? true : undefined), "attempt 1 to be given up");
    const accepted = await report(workers, { workerId: second.workerId, results: [ok(handle.id, 2, "true result")] });
    expect(accepted).toMatchObject({ accepted: 1, rejected: [] });
    expect(await handle.result()).toBe("true result");

    // The lost first worker's late result for its superseded attempt, then a duplicate of the real one.
    const [late] = await reject(first.workerId, [ok(handle.id, 1, "late")]);
    expect(late).toEqual([Code.FailedPrecondition, expect.stringMatching(/^attempt 1 of task \S+ was given up \(.*\); result ignored$/)]);
    expect(await reject(second.workerId, [ok(handle.id, 2, "again")])).toEqual([[Code.AlreadyExists, `attempt 2 of task ${handle.id} was already reported`]]);
    // Nothing changed, and the late result was counted.
    expect(await handle.result()).toBe("true result");
    expect((await client.stats()).totals.lateResults).toBe(1);
    expect((await handle.status()).attempts.map((a) => a.outcome)).toEqual(["lost", "succeeded"]);
    expect(server.running).toBe(true);
  });

  it("counts and ignores a late result from a live worker whose attempt was superseded", async () => {
    const server = await startServer();
    connection = new GrpcConnection({ address: server.grpc });
    const workers = connection.service(WorkerService);
    const client = connect(server);

    const slow = await fakeWorker(workers, client, "slow");
    const handle = await client.submit("job", {});
    await slow.received(1);
    // Cancel while it runs, then run it again: attempt 2 goes to a fresh worker.
    await client.cancel(handle.id);
    await client.retry(handle.id);
    const fresh = await fakeWorker(workers, client, "fresh");
    await fresh.received(1);
    await report(workers, { workerId: fresh.workerId, results: [ok(handle.id, 2, "from fresh")] });
    expect(await handle.result()).toBe("from fresh");
    // The slow worker finally reports attempt 1: superseded, ignored, counted.
    const late = await report(workers, { workerId: slow.workerId, results: [ok(handle.id, 1, "from slow")] });
    expect(late.rejected).toHaveLength(0); // its open attempt is closed (its slot comes back)…
    expect(await handle.result()).toBe("from fresh"); // …but the result is not taken
    expect((await client.stats()).totals.lateResults).toBe(1);
  });
});

describe("worker sessions are capabilities: a worker id alone gives nothing", () => {
  it("refuses another worker's session id without its secret, on Dispatch and ReportResults, before anything changes", async () => {
    const server = await startServer();
    connection = new GrpcConnection({ address: server.grpc });
    const workers = connection.service(WorkerService);
    const client = connect(server);
    const victim = await fakeWorker(workers, client, "victim");
    const handle = await client.submit("job", { n: 1 });
    await victim.received(1);
    // The id is public: listings show it.
    expect((await client.workers()).map((w) => w.id)).toContain(victim.workerId);

    const refused = (err: unknown, what: string): void => {
      expect(err, what).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code, what).toBe(Code.PermissionDenied);
      expect((err as ConnectError).rawMessage, what).toMatch(/session secret/);
    };
    for (const sessionSecret of ["", "a-guess-at-the-secret-0123456789", secrets.get(victim.workerId)!.slice(0, -1) + "x"]) {
      // Its results, its heartbeats, its stream: all refused.
      refused(await report(workers, { workerId: victim.workerId, sessionSecret, results: [ok(handle.id, 1, "forged")] }).catch((e: unknown) => e), "report");
      refused(await report(workers, { workerId: victim.workerId, sessionSecret, heartbeat: { ping: 1, capacity: 1 } }).catch((e: unknown) => e), "heartbeat");
      const stolen = (async () => {
        for await (const message of workers.dispatch({ workerId: victim.workerId, sessionSecret }) as AsyncIterable<DispatchResponse>) return message;
      })();
      refused(await stolen.catch((e: unknown) => e), "dispatch");
    }
    // The victim still holds its attempt, and its own report is taken.
    expect(await handle.status()).toMatchObject({ state: "running", workerName: "victim" });
    expect(await report(workers, { workerId: victim.workerId, results: [ok(handle.id, 1, "real")] })).toMatchObject({ accepted: 1 });
    expect(await handle.result()).toBe("real");
  });
});

describe("idempotency keys", () => {
  it("returns the original task for a repeated key, alone or in a batch", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const client = connect(server);
    const first = await client.submit("add", { a: 1, b: 2 }, { key: "order-42" });
    const again = await client.submit("add", { a: 1, b: 2 }, { key: "order-42" });
    expect(first.deduplicated).toBe(false);
    expect(again).toMatchObject({ id: first.id, deduplicated: true });
    // Other args under the same key are refused (test/idempotency.test.ts has the rest of the contract).
    const batch = await Promise.allSettled([client.submit("add", { a: 1, b: 2 }, { key: "order-42" }), client.submit("add", { a: 5, b: 5 }, { key: "order-42" }), client.submit("add", { a: 5, b: 5 }, { key: "order-43" })]);
    expect(batch[0]).toMatchObject({ status: "fulfilled", value: { id: first.id, deduplicated: true } });
    expect(batch[1]).toMatchObject({ status: "rejected", reason: { code: Code.AlreadyExists } });
    expect(batch[2]).toMatchObject({ status: "fulfilled", value: { deduplicated: false } });
    expect(await again.result()).toBe(3);
    expect((await client.stats()).totals.submitted).toBe(2);
  });
});
