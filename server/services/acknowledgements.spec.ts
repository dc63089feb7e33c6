import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { SessionRequestSchema, SubmitRequestSchema } from "../../gen/fastworker/v1/task_service_pb.js";
import { RegisterWorkerRequestSchema, ReportResultsRequestSchema, type DispatchResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { silentLogger } from "../../common/logger.js";
import { lostAcknowledgements } from "../../test/helpers/durability.js";
import { ManualLog } from "../../test/helpers/manual-log.js";
import { engineConfig } from "../engine/config.js";
import { ControlPlane } from "../engine/control-plane.js";
import { restoreState } from "../engine/recovery.js";
import { TaskStore } from "../store/task-store.js";
import { AuditLog } from "../telemetry/audit-log.js";
import { SessionStream } from "./session.js";
import { taskService } from "./task-service.js";
import { workerService } from "./worker-service.js";

// "Acknowledged means durable", checked at the services with a log the test drives by hand: nothing
// is acknowledged (a submission, a result, an assignment) before the write holding it is persisted,
// and once a write fails nothing is acknowledged at all.

const ctx = (): HandlerContext => ({ signal: new AbortController().signal, values: createContextValues() }) as HandlerContext;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function durablePlane(log = new ManualLog(), onLogFailure = (_err: Error) => {}) {
  const { store, recovered } = await TaskStore.open({ resultTtlMs: 60_000, maxResults: 1000, log, onLogFailure });
  const plane = new ControlPlane(engineConfig(), store);
  restoreState(plane, recovered, { host: "test", pid: 1 }, Date.now());
  log.persistAll(); // the restore's own records
  plane.dispatcher.start();
  return { plane, log, tasks: taskService(plane), workers: workerService(plane, new AuditLog(silentLogger())) };
}

/** Whether a promise has settled by now (without waiting for it). */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await turn();
  await turn();
  return done;
}

describe("acknowledgements wait for the commit", () => {
  it("Submit answers only once its write is persisted", async () => {
    const { tasks, log } = await durablePlane();
    const answer = tasks.submit(create(SubmitRequestSchema, { task: "add", argsJson: "{}" }), ctx()) as Promise<unknown>;
    await log.writes(1);
    expect(await settledYet(answer)).toBe(false);
    log.persistAll();
    expect(await answer).toMatchObject({ id: expect.any(String) });
  });

  it("a Session acceptance goes out only once its submission is persisted", async () => {
    const { plane, log } = await durablePlane();
    const stream = new SessionStream(plane, ctx());
    stream.receive(create(SessionRequestSchema, { submits: [{ ref: 7, task: { task: "add", argsJson: "{}" } }] }), Date.now());
    await log.writes(1);
    await turn();
    expect(stream.out.size).toBe(0);
    log.persistAll();
    await vi.waitFor(() => expect(stream.out.size).toBe(1));
  });

  it("a result is answered only once persisted (the assignment itself does not wait)", async () => {
    const { plane, log, workers } = await durablePlane();
    const request = create(RegisterWorkerRequestSchema, { name: "w", concurrency: 1, tasks: [{ name: "add" }], pid: 1, host: "h", version: "t" });
    const registered = workers.registerWorker(request, ctx()) as Promise<{ workerId: string; sessionSecret: string }>;
    await log.writes(1);
    log.persistAll();
    const { workerId, sessionSecret } = await registered;
    const stream = new AsyncQueue<DispatchResponse>();
    plane.attach(plane.worker(workerId), stream, undefined, undefined, Date.now());
    const hello = stream.size; // the first ping
    const submitted = plane.submit({ name: "add", argsJson: "{}", priority: 0, delayMs: 0, options: {} }, Date.now()).task!;
    await vi.waitFor(() => expect(stream.size).toBe(hello + 1)); // dispatched at once, while the submission is being written
    await log.writes(1);
    log.persistAll();

    const requests = new AsyncQueue<ReturnType<typeof create<typeof ReportResultsRequestSchema>>>();
    const responses = (workers.reportResults as (r: AsyncIterable<unknown>, c: HandlerContext) => AsyncIterable<unknown>)(requests, ctx())[Symbol.asyncIterator]();
    requests.push(create(ReportResultsRequestSchema, { workerId, sessionSecret, results: [{ taskId: submitted.id, attempt: 1, outcome: 1, resultJson: "3" }] }));
    const answered = responses.next();
    await log.writes(1);
    expect(await settledYet(answered)).toBe(false);
    log.persistAll();
    expect((await answered).value).toMatchObject({ accepted: 1 });
    requests.close();
  });

  it("once a write fails, nothing is acknowledged any more (and the failure is reported once)", async () => {
    const failures: Error[] = [];
    const { tasks, log } = await durablePlane(new ManualLog(), (err) => failures.push(err));
    const first = tasks.submit(create(SubmitRequestSchema, { task: "add", argsJson: "{}" }), ctx()) as Promise<unknown>;
    await log.writes(1);
    log.pending.shift()!.fail(new Error("ENOSPC: no space left on device"));
    const err = await first.then(() => expect.fail("acknowledged a submission that was never stored"), (e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect((err as ConnectError).rawMessage).toMatch(/could not write its state .*ENOSPC.*nothing more is acknowledged/);
    const later = tasks.submit(create(SubmitRequestSchema, { task: "add", argsJson: "{}" }), ctx()) as Promise<unknown>;
    await expect(later).rejects.toMatchObject({ code: Code.Unavailable });
    expect(failures).toHaveLength(1);
  });
});

describe("the lost-acknowledgement check (negative control)", () => {
  it("finds nothing lost when acknowledgements wait for the commit, and catches a store that acknowledges first", async () => {
    const { plane, log } = await durablePlane();
    const ackedAfterCommit: string[] = [];
    const ackedAtOnce: string[] = [];
    const submit = (): string => plane.submit({ name: "add", argsJson: "{}", priority: 0, delayMs: 0, options: {} }, Date.now()).id;
    // Batch 1 is persisted; batch 2 is still being written when the process dies.
    for (let i = 0; i < 5; i++) {
      const id = submit();
      ackedAtOnce.push(id); // wrong: acknowledged before the barrier
      void plane.durable().then(() => ackedAfterCommit.push(id));
    }
    await log.writes(1);
    log.persistAll();
    await vi.waitFor(() => expect(ackedAfterCommit).toHaveLength(5));
    for (let i = 0; i < 5; i++) {
      const id = submit();
      ackedAtOnce.push(id);
      void plane.durable().then(() => ackedAfterCommit.push(id));
    }
    await log.writes(1);
    const survivor = log.crash(); // killed: the second batch never reached the disk

    const { store } = await TaskStore.open({ resultTtlMs: 60_000, maxResults: 1000, log: survivor });
    const known = (id: string): boolean => store.get(id, Date.now()) !== undefined;
    expect(lostAcknowledgements(ackedAfterCommit, known)).toEqual([]);
    expect(lostAcknowledgements(ackedAtOnce, known)).toEqual(ackedAtOnce.slice(5));
  });
});
