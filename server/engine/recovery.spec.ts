import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AttemptOutcome, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { ReportResultsRequestSchema, type DispatchResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { ManualLog } from "../../test/helpers/manual-log.js";
import { NO_OPTIONS } from "../store/task-record.js";
import { TaskStore } from "../store/task-store.js";
import { engineConfig } from "./config.js";
import { ControlPlane } from "./control-plane.js";
import { restoreState, type RestoreSummary } from "./recovery.js";

// A control plane killed and started again on what its log kept: the worker sessions and their
// running attempts come back, and a worker that reattaches picks up where it was.

const config = engineConfig({ heartbeatIntervalMs: 100, leaseTimeoutMs: 1000, detachGraceMs: 500 });
const identity = { name: "w", host: "elsewhere", pid: 42, version: "t", concurrency: 4, names: ["job"] };

async function start(log: ManualLog, pid = 1): Promise<{ plane: ControlPlane; summary: RestoreSummary }> {
  const { store, recovered } = await TaskStore.open({ resultTtlMs: 60_000, maxResults: 100, log });
  const plane = new ControlPlane(config, store);
  const summary = restoreState(plane, recovered, { host: "here", pid }, 1000);
  return { plane, summary };
}

afterEach(() => {
  vi.useRealTimers();
});

/** A dispatch is written lazily (with the task's next change, or after 100 ms): let that time pass. */
const afterLazyWrite = (): void => {
  vi.advanceTimersByTime(100);
};

/** Lets every change made so far reach the disk. */
const persisted = async (plane: ControlPlane, log: ManualLog): Promise<void> => {
  let done = false;
  const committed = plane.store.commit().then(() => (done = true));
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    log.persistAll();
  }
  await committed;
};

describe("restart recovery", () => {
  it("restores a worker session with its running attempt; the worker reattaches and its result is accepted", async () => {
    const log = new ManualLog();
    const { plane } = await start(log);
    const { worker, secret } = plane.register(identity, [], 0);
    const task = plane.submit({ name: "job", argsJson: "{}", priority: 0, delayMs: 0, options: NO_OPTIONS }, 0).task!;
    await persisted(plane, log);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    plane.attach(worker, new AsyncQueue<DispatchResponse>(), undefined, undefined, 0);
    expect(plane.dispatcher.runOnce(0)).toBe(1);
    afterLazyWrite();
    await persisted(plane, log); // the attempt reached the disk

    const { plane: after, summary } = await start(log.crash(), 2);
    expect(summary).toMatchObject({ tasks: 1, running: 1, requeued: 0, workers: 1 });
    // The session's secret still opens it (only its hash was kept); a wrong one does not.
    expect(() => after.authenticWorker(worker.id, "not-the-secret")).toThrow(/wrong session secret/);
    const restored = after.authenticWorker(worker.id, secret);
    after.attach(restored, new AsyncQueue<DispatchResponse>(), undefined, [{ $typeName: "fastworker.v1.AttemptRef", taskId: task.id, attempt: 1 }], 1000);
    const response = after.report(restored, create(ReportResultsRequestSchema, { results: [{ taskId: task.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: "7" }] }), 1001);
    expect(response.accepted).toBe(1);
    expect(after.get(task.id, 1001)).toMatchObject({ state: TaskState.SUCCEEDED, resultJson: "7", attempt: 1 });
  });

  it("adopts an attempt the worker holds that never reached the disk, instead of running the task again", async () => {
    const log = new ManualLog();
    const { plane } = await start(log);
    const { worker } = plane.register(identity, [], 0);
    const task = plane.submit({ name: "job", argsJson: "{}", priority: 0, delayMs: 0, options: NO_OPTIONS }, 0).task!;
    await persisted(plane, log);
    plane.attach(worker, new AsyncQueue<DispatchResponse>(), undefined, undefined, 0);
    expect(plane.dispatcher.runOnce(0)).toBe(1); // sent to the worker; written lazily, so not yet when the process dies

    const { plane: after, summary } = await start(log.crash(), 2);
    expect(summary).toMatchObject({ tasks: 1, queued: 1, running: 0 });
    const stream = new AsyncQueue<DispatchResponse>();
    after.attach(after.worker(worker.id), stream, undefined, [{ $typeName: "fastworker.v1.AttemptRef", taskId: task.id, attempt: 1 }], 1000);
    expect(after.get(task.id, 1000)).toMatchObject({ state: TaskState.RUNNING, attempt: 1 });
    expect(after.get(task.id, 1000)!.currentAttempt).toMatchObject({ workerId: worker.id, number: 1 });
    expect(after.dispatcher.runOnce(1000)).toBe(0); // not dispatched a second time
  });

  it("tells a worker to stop an unrecorded attempt whose task moved on, and gives up sessions of the previous process at once", async () => {
    const log = new ManualLog();
    const { plane } = await start(log, 7);
    const { worker: embedded } = plane.register({ ...identity, name: "embedded", host: "here", pid: 7 }, [], 0);
    const { worker: other } = plane.register(identity, [], 0);
    const task = plane.submit({ name: "job", argsJson: "{}", priority: 0, delayMs: 0, options: NO_OPTIONS }, 0).task!;
    await persisted(plane, log);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    plane.attach(embedded, new AsyncQueue<DispatchResponse>(), undefined, undefined, 0);
    plane.dispatcher.runOnce(0);
    afterLazyWrite();
    await persisted(plane, log); // attempt 1 on the embedded worker (same host and pid as the control plane)

    const { plane: after, summary } = await start(log.crash(), 8);
    // The previous process's own worker died with it: its attempt goes back to the queue at once.
    expect(summary).toMatchObject({ workers: 1, running: 0, requeued: 1 });
    expect(after.get(task.id, 1000)).toMatchObject({ state: TaskState.QUEUED, attempt: 1 });
    // Another worker claims to hold attempt 1: the task now waits for attempt 2, so it is told to stop.
    const stream = new AsyncQueue<DispatchResponse>();
    after.attach(after.worker(other.id), stream, undefined, [{ $typeName: "fastworker.v1.AttemptRef", taskId: task.id, attempt: 1 }], 1000);
    const messages: DispatchResponse[] = [];
    while (stream.size > 0) messages.push((await stream[Symbol.asyncIterator]().next()).value as DispatchResponse);
    expect(messages.flatMap((m) => m.cancels.map((c) => [c.taskId, c.attempt]))).toEqual([[task.id, 1]]);
  });
});
