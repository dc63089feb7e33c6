import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkerState } from "../../gen/fastworker/v1/admin_service_pb.js";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { ReportResultsRequestSchema, TaskDefinitionSchema, type DispatchResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { silentLogger } from "../../common/logger.js";
import { engineConfig } from "./config.js";
import { ControlPlane } from "./control-plane.js";
import { LeaseReaper } from "../loops/lease-reaper.js";
import { NO_OPTIONS } from "../store/task-record.js";

/** An engine driven by hand: no sockets, no timers, the clock is `now`. */
function engine() {
  const config = engineConfig({ heartbeatIntervalMs: 100, leaseTimeoutMs: 1000, detachGraceMs: 500 });
  const plane = new ControlPlane(config);
  const reaper = new LeaseReaper(plane, config, silentLogger());
  const secrets = new Map<string, string>();
  const join = (name: string, concurrency: number, now: number) => {
    const { worker, secret } = plane.register({ name, host: "h", pid: 1, version: "t", concurrency, names: ["job"] }, [], now);
    secrets.set(worker.id, secret);
    const stream = new AsyncQueue<DispatchResponse>();
    plane.attach(worker, stream, undefined, undefined, now);
    return { worker, stream };
  };
  const submit = (now: number, priority = Priority.NORMAL) =>
    plane.submit({ name: "job", argsJson: "null", priority, delayMs: 0, options: NO_OPTIONS }, now).task!;
  const report = (workerId: string, init: Parameters<typeof create<typeof ReportResultsRequestSchema>>[1], now: number) =>
    plane.report(plane.reportingWorker(workerId, secrets.get(workerId) ?? ""), create(ReportResultsRequestSchema, init), now);
  return { plane, reaper, join, submit, report };
}

describe("ControlPlane engine (driven by runOnce)", () => {
  it("never gives a worker more attempts than its capacity, and batches them in one message", () => {
    const { plane, join, submit } = engine();
    const { worker, stream } = join("w", 3, 0);
    for (let i = 0; i < 10; i++) submit(0);
    expect(stream.size).toBe(1); // the hello ping
    expect(plane.dispatcher.runOnce(0)).toBe(3);
    expect(worker.inflight.size).toBe(3);
    expect(stream.size).toBe(2);
    expect(plane.dispatcher.runOnce(0)).toBe(0);
  });

  it("loses a worker whose heartbeats stop echoing new pings, and re-queues its attempts at their place", () => {
    const { plane, reaper, join, submit, report } = engine();
    const { worker } = join("w", 2, 0);
    const [a, b, c] = [submit(0), submit(0), submit(0)];
    plane.dispatcher.runOnce(0);
    report(worker.id, { acks: [{ taskId: a.id, attempt: 1 }, { taskId: b.id, attempt: 1 }] }, 10);
    // Pings go out (1 was the hello on attach); heartbeats keep arriving but echo only ping 2.
    worker.ping(100);
    report(worker.id, { heartbeat: { ping: 2, capacity: 2 } }, 150);
    for (let t = 200; t <= 1000; t += 100) {
      worker.ping(t);
      report(worker.id, { heartbeat: { ping: 2, capacity: 2 } }, t + 50);
      expect(reaper.runOnce(t + 50)).toBe(0);
    }
    expect(reaper.runOnce(1101)).toBe(1);
    expect(worker.state).toBe(WorkerState.LOST);
    expect([a, b].map((t) => [t.state, t.currentAttempt?.outcome])).toEqual([
      [TaskState.QUEUED, AttemptOutcome.LOST],
      [TaskState.QUEUED, AttemptOutcome.LOST],
    ]);
    // Back at their old places: ahead of c.
    const next = join("w2", 3, 1200);
    plane.dispatcher.runOnce(1200);
    expect([...next.worker.inflight].map((att) => att.task.id)).toEqual([a.id, b.id, c.id]);
  });

  it("re-queues assignments a worker did not acknowledge although it echoed a later ping", () => {
    const { plane, join, submit, report } = engine();
    const { worker } = join("w", 2, 0);
    const [a, b] = [submit(0), submit(0)];
    plane.dispatcher.runOnce(0);
    worker.ping(10); // ping 2, sent after both assignments (ping 1 was the hello on attach)
    report(worker.id, { acks: [{ taskId: a.id, attempt: 1 }], heartbeat: { ping: 2, capacity: 2 } }, 20);
    expect(a.state).toBe(TaskState.RUNNING);
    expect(b.state).toBe(TaskState.QUEUED);
    expect(b.attempts?.[0]?.outcome).toBe(AttemptOutcome.LOST);
  });

  it("gives a disconnected worker detachGrace to come back before losing it", () => {
    const { plane, reaper, join, submit, report } = engine();
    const { worker, stream } = join("w", 1, 0);
    const task = submit(0);
    plane.dispatcher.runOnce(0);
    report(worker.id, { acks: [{ taskId: task.id, attempt: 1 }] }, 5);
    plane.detach(worker, stream, 100);
    expect(worker.state).toBe(WorkerState.DISCONNECTED);
    expect(reaper.runOnce(500)).toBe(0);
    const again = new AsyncQueue<DispatchResponse>();
    plane.attach(worker, again, undefined, undefined, 550);
    expect(reaper.runOnce(700)).toBe(0);
    expect(task.state).toBe(TaskState.RUNNING);
    plane.detach(worker, again, 800);
    expect(reaper.runOnce(1301)).toBe(1);
    expect(task.state).toBe(TaskState.QUEUED);
  });

  it("fails a task whose workers keep getting lost (a poison task)", () => {
    const { plane, reaper, join, submit, report } = engine();
    const task = submit(0);
    let now = 0;
    for (let i = 1; i <= plane.config.maxLosses; i++) {
      const { worker } = join(`w${i}`, 1, now);
      plane.dispatcher.runOnce(now);
      report(worker.id, { acks: [{ taskId: task.id, attempt: i }] }, now + 1);
      for (const end = now + 2000; now < end; ) reaper.runOnce((now += 100)); // the loop runs; the worker says nothing
    }
    expect(task.state).toBe(TaskState.FAILED);
    expect(task.error?.message).toMatch(/lost 5 times in a row/);
  });

  it("fails a task whose handler crashes its worker before it can even acknowledge", () => {
    const { plane, join, submit } = engine();
    const task = submit(0);
    for (let i = 1; i <= plane.config.maxLosses; i++) {
      const { worker, stream } = join(`w${i}`, 1, i * 10);
      plane.dispatcher.runOnce(i * 10);
      plane.detach(worker, stream, i * 10 + 1); // the process died: no ack ever came
    }
    expect(task.state).toBe(TaskState.FAILED);
    expect(task.attempts?.map((a) => a.outcome)).toEqual(Array(5).fill(AttemptOutcome.LOST));
  });

  it("does not let a late CANCELLED report of an old series fail a task that was retried", () => {
    const { plane, reaper, join, submit, report } = engine();
    const { worker, stream } = join("w", 1, 0);
    const task = submit(0);
    plane.dispatcher.runOnce(0);
    report(worker.id, { acks: [{ taskId: task.id, attempt: 1 }] }, 1);
    plane.cancel(task.id, "stop", 2);
    plane.retry(task.id, 3); // attempt 1 is still open on the worker
    plane.detach(worker, stream, 4);
    expect(reaper.runOnce(1000)).toBe(1); // the worker is lost: attempt 1 becomes LOST
    report(worker.id, { results: [{ taskId: task.id, attempt: 1, outcome: AttemptOutcome.CANCELLED }] }, 1001);
    expect(task.state).toBe(TaskState.QUEUED);
    expect(task.error).toBeUndefined();
  });

  it("re-sends a cancel that happened while the worker was disconnected, when it comes back", () => {
    const { plane, join, submit, report } = engine();
    const { worker, stream } = join("w", 1, 0);
    const task = submit(0);
    plane.dispatcher.runOnce(0);
    report(worker.id, { acks: [{ taskId: task.id, attempt: 1 }] }, 1);
    plane.detach(worker, stream, 2);
    plane.cancel(task.id, "not needed", 3);
    const again = new AsyncQueue<DispatchResponse>();
    plane.attach(worker, again, undefined, undefined, 4);
    const messages: DispatchResponse[] = [];
    const it = again[Symbol.asyncIterator]();
    while (again.size > 0) void it.next().then((r) => !r.done && messages.push(r.value));
    return Promise.resolve().then(() => {
      expect(messages.flatMap((m) => m.cancels)).toMatchObject([{ taskId: task.id, attempt: 1, reason: "not needed" }]);
    });
  });

  it("takes the capacity a reattaching worker reports, so it never holds more than its concurrency", () => {
    const { plane, submit } = engine();
    const { worker } = plane.register({ name: "w", host: "h", pid: 1, version: "t", concurrency: 4, names: ["job"] }, [], 0);
    for (let i = 0; i < 10; i++) submit(0);
    plane.attach(worker, new AsyncQueue<DispatchResponse>(), 1, undefined, 0); // 3 slots still busy with an old session's tasks
    expect(plane.dispatcher.runOnce(0)).toBe(1);
  });

  it("refuses a registration that would change a connected worker's task definition, and takes it once nobody serves the name", () => {
    const { plane } = engine();
    const identity = (name: string) => ({ name, host: "h", pid: 1, version: "t", concurrency: 1, names: ["job"] });
    const high = create(TaskDefinitionSchema, { name: "job", priority: Priority.HIGH });
    const low = create(TaskDefinitionSchema, { name: "job", priority: Priority.LOW });
    const first = plane.register(identity("a"), [high], 0);
    expect(first.changed).toEqual([]); // a new name is no change
    expect(plane.register(identity("b"), [high], 0).changed).toEqual([]); // the same definition is welcome
    expect(() => plane.register(identity("c"), [low], 0)).toThrow(/task "job" here has priority low, not high \(the definition of connected worker "a" \(.*\), "b" \(/);
    expect(plane.definitions.defaultPriority("job")).toBe(Priority.HIGH);
    for (const w of [...plane.workers.live()]) plane.loseWorker(w, 1, "test");
    const later = plane.register(identity("c"), [low], 2);
    expect(later.changed).toEqual([{ name: "job", differences: ["priority low, not high"] }]);
    expect(plane.definitions.defaultPriority("job")).toBe(Priority.LOW);
  });

  it("does not lose healthy workers after the control plane itself stalled (heartbeats read first, then a fresh ping)", () => {
    const { plane, reaper, join, submit, report } = engine();
    const { worker } = join("w", 1, 0);
    const task = submit(0);
    plane.dispatcher.runOnce(0);
    report(worker.id, { acks: [{ taskId: task.id, attempt: 1 }], heartbeat: { ping: 1, capacity: 1 } }, 1);
    for (let t = 50; t <= 200; t += 50) reaper.runOnce(t);
    // The event loop is blocked from 200 to 30,200 (lease timeout: 1 s). Its first run after the gap loses nobody…
    expect(reaper.runOnce(30_200)).toBe(0);
    // …the heartbeat that waited in the socket is read, the pinger sends a new ping, and the worker echoes it.
    worker.ping(30_210);
    report(worker.id, { heartbeat: { ping: 2, capacity: 1 } }, 30_220);
    for (let t = 30_250; t <= 31_000; t += 50) expect(reaper.runOnce(t)).toBe(0);
    expect(worker.state).toBe(WorkerState.ACTIVE);
    expect(task.state).toBe(TaskState.RUNNING);
    // Then it falls silent: it is lost once its lease, renewed by that fresh echo, runs out.
    for (let t = 31_050; t < 31_220; t += 50) expect(reaper.runOnce(t)).toBe(0);
    expect(reaper.runOnce(31_250)).toBe(1);
  });
});
