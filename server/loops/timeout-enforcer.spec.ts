import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { ReportResultsRequestSchema, type DispatchResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { silentLogger } from "../../common/logger.js";
import { engineConfig } from "../engine/config.js";
import { ControlPlane } from "../engine/control-plane.js";
import { TimeoutEnforcer } from "./timeout-enforcer.js";

/** An engine driven by hand: the enforcer's runOnce with a controlled clock. */
function engine() {
  const config = engineConfig({ heartbeatIntervalMs: 100, leaseTimeoutMs: 1000, timeoutGraceMs: 500 });
  const plane = new ControlPlane(config);
  const enforcer = new TimeoutEnforcer(plane, config, silentLogger());
  const { worker, secret } = plane.register({ name: "w", host: "h", pid: 1, version: "t", concurrency: 1, names: ["job"] }, [], 0);
  const stream = new AsyncQueue<DispatchResponse>();
  plane.attach(worker, stream, undefined, undefined, 0);
  const submit = (timeoutMs: number, maxAttempts = 2) =>
    plane.submit({ name: "job", argsJson: "null", priority: Priority.NORMAL, delayMs: 0, options: { timeoutMs, retry: { maxAttempts, initialBackoffMs: 0 } } }, 0).task!;
  const report = (init: Parameters<typeof create<typeof ReportResultsRequestSchema>>[1], now: number) =>
    plane.report(plane.reportingWorker(worker.id, secret), create(ReportResultsRequestSchema, init), now);
  /** The loop, every second from `from` to `to`, while the worker keeps heartbeating. */
  const run = (from: number, to: number): number => {
    let timedOut = 0;
    for (let t = from; t <= to; t += 1000) {
      worker.ping(t);
      report({ heartbeat: { ping: worker.lastPing, capacity: 1 } }, t);
      timedOut += enforcer.runOnce(t);
    }
    return timedOut;
  };
  const messages = async (): Promise<DispatchResponse[]> => {
    const out: DispatchResponse[] = [];
    const it = stream[Symbol.asyncIterator]();
    for (let n = stream.size; n > 0; n--) {
      const r = await it.next();
      if (!r.done) out.push(r.value);
    }
    return out;
  };
  return { plane, enforcer, worker, submit, report, run, messages };
}

describe("TimeoutEnforcer", () => {
  it("fails an unreported attempt past its timeout plus the grace as TIMED_OUT, retries it, and tells the worker to stop", async () => {
    const { plane, worker, submit, report, run, messages } = engine();
    const task = submit(2000);
    plane.dispatcher.runOnce(0);
    report({ acks: [{ taskId: task.id, attempt: 1 }] }, 1);
    expect(run(0, 2000)).toBe(0); // 2.0 s: at its timeout, within the grace
    expect(run(3000, 3000)).toBe(1); // 3.0 s > 2.0 + 0.5
    expect(task.attempts?.[0]).toMatchObject({ outcome: AttemptOutcome.TIMED_OUT, error: { type: "TaskTimeoutError", retryable: true } });
    expect(task.attempts?.[0]?.error?.message).toMatch(/^attempt 1 ran 3\.0s, past its timeout \(2s\) and --timeout-grace \(0\.5s\)/);
    expect(task.state).toBe(TaskState.SCHEDULED); // maxAttempts 2: one retry left
    expect((await messages()).flatMap((m) => m.cancels)).toMatchObject([{ taskId: task.id, attempt: 1 }]);
    // The worker's slot stays taken until it reports the attempt: then it is rejected, and the slot is free.
    expect(worker.free).toBe(0);
    const answer = report({ results: [{ taskId: task.id, attempt: 1, outcome: AttemptOutcome.CANCELLED }] }, 3100);
    expect(answer.rejected).toMatchObject([{ status: { code: Code.AlreadyExists } }]);
    expect(worker.free).toBe(1);
    // The retry runs, times out again, and with no attempts left the task fails.
    plane.scheduler.runOnce(3100);
    plane.dispatcher.runOnce(3100);
    expect(task.state).toBe(TaskState.RUNNING);
    report({ acks: [{ taskId: task.id, attempt: 2 }] }, 3101);
    expect(run(4000, 6000)).toBe(1);
    expect(task.state).toBe(TaskState.FAILED);
    expect(task.error).toMatchObject({ type: "TaskTimeoutError" });
  });

  it("leaves tasks without a timeout, and reported attempts, alone", () => {
    const { plane, submit, report, run } = engine();
    const forever = submit(0);
    plane.dispatcher.runOnce(0);
    expect(run(0, 100_000)).toBe(0);
    report({ results: [{ taskId: forever.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: "1" }] }, 100_001);
    const quick = submit(1000);
    plane.dispatcher.runOnce(100_001);
    report({ results: [{ taskId: quick.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: "2" }] }, 100_002);
    expect(run(101_000, 110_000)).toBe(0);
    expect([forever.state, quick.state]).toEqual([TaskState.SUCCEEDED, TaskState.SUCCEEDED]);
  });

  it("skips the first round after the control plane stalled: results that arrived meanwhile are read first", () => {
    const { plane, enforcer, submit, report } = engine();
    const task = submit(1000);
    plane.dispatcher.runOnce(0);
    expect(enforcer.runOnce(1000)).toBe(0);
    // Blocked from 1 s to 60 s; the worker's result waits in the socket.
    expect(enforcer.runOnce(60_000)).toBe(0);
    report({ results: [{ taskId: task.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: "1" }] }, 60_001);
    expect(enforcer.runOnce(61_000)).toBe(0);
    expect(task.state).toBe(TaskState.SUCCEEDED);
    // Without a result, the next round after the skipped one times it out.
    const late = submit(1000);
    plane.dispatcher.runOnce(61_000);
    expect(enforcer.runOnce(62_000)).toBe(0);
    expect(enforcer.runOnce(63_000)).toBe(1);
    expect(late.attempts?.[0]?.outcome).toBe(AttemptOutcome.TIMED_OUT);
  });
});
