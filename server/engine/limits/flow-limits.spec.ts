import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FlowLimitSchema, RateLimitSchema } from "../../../gen/fastworker/v1/limit_pb.js";
import { AttemptOutcome, Priority, TaskState } from "../../../gen/fastworker/v1/task_pb.js";
import { ReportResultsRequestSchema, TaskDefinitionSchema, type DispatchResponse } from "../../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../../common/async-queue.js";
import { durationFromMs } from "../../../common/time.js";
import { engineConfig } from "../config.js";
import { ControlPlane } from "../control-plane.js";
import { NO_OPTIONS } from "../../store/task-record.js";

/** An engine driven by hand: no sockets, the clock is `now`; workers serve the names given. */
function engine() {
  const plane = new ControlPlane(engineConfig());
  const definitions = [
    create(TaskDefinitionSchema, { name: "resize", limit: create(FlowLimitSchema, { concurrency: 2 }) }),
    create(TaskDefinitionSchema, { name: "email", limit: create(FlowLimitSchema, { rate: create(RateLimitSchema, { max: 2, per: durationFromMs(1000) }) }) }),
    create(TaskDefinitionSchema, { name: "tenant", limit: create(FlowLimitSchema, { concurrency: 1, key: "args:/customer" }) }),
    create(TaskDefinitionSchema, { name: "free" }),
  ];
  const join = (name: string, concurrency: number, now: number) => {
    const { worker } = plane.register({ name, host: "h", pid: 1, version: "t", concurrency, names: definitions.map((d) => d.name) }, definitions, now);
    plane.attach(worker, new AsyncQueue<DispatchResponse>(), undefined, undefined, now);
    return worker;
  };
  const submit = (name: string, args: unknown, now: number, priority = Priority.NORMAL) =>
    plane.submit({ name, argsJson: JSON.stringify(args), priority, delayMs: 0, options: NO_OPTIONS }, now).task!;
  const finish = (workerId: string, taskId: string, now: number) =>
    plane.report(plane.worker(workerId), create(ReportResultsRequestSchema, { results: [{ taskId, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: "null" }] }), now);
  return { plane, join, submit, finish };
}

describe("FlowLimits (enforced by the dispatcher across workers)", () => {
  it("never runs more than the concurrency limit over several workers, and frees a slot when a task ends", () => {
    const { plane, join, submit, finish } = engine();
    const [w1, w2] = [join("w1", 10, 0), join("w2", 10, 0)];
    const tasks = Array.from({ length: 5 }, (_, i) => submit("resize", { i }, 0));
    plane.dispatcher.runOnce(0);
    expect(tasks.filter((t) => t.state === TaskState.RUNNING)).toHaveLength(2);
    expect(plane.statusMessage(tasks[4]!, 0)).toMatch(/held back by its concurrency limit: 2 of at most 2 "resize"/);
    const running = tasks.find((t) => t.state === TaskState.RUNNING)!;
    const owner = running.currentAttempt!.workerId;
    finish(owner, running.id, 10);
    plane.dispatcher.runOnce(10);
    expect(tasks.filter((t) => t.state === TaskState.RUNNING)).toHaveLength(2);
    expect(plane.limits.state("resize", 10)).toMatchObject({ running: 2, waiting: 2 });
    expect(w1.inflight.size + w2.inflight.size).toBe(2);
  });

  it("holds rate-limited tasks queued with a reason and when, and wakes them when a token is due", () => {
    const { plane, join, submit } = engine();
    join("w", 10, 0);
    const tasks = Array.from({ length: 4 }, (_, i) => submit("email", { i }, 0));
    plane.dispatcher.runOnce(0);
    expect(tasks.map((t) => t.state)).toEqual([TaskState.RUNNING, TaskState.RUNNING, TaskState.QUEUED, TaskState.QUEUED]);
    expect(plane.statusMessage(tasks[2]!, 100)).toMatch(/held back by its rate limit \(2 "email" starts per 1s\); the next may start in 0\.4s/);
    expect(plane.limits.wakeups.runOnce(499)).toBe(0);
    expect(plane.limits.wakeups.runOnce(500)).toBe(1);
    plane.dispatcher.runOnce(500);
    expect(tasks[2]!.state).toBe(TaskState.RUNNING);
    expect(tasks[3]!.state).toBe(TaskState.QUEUED);
  });

  it("does not let a blocked name hold up other names or lower priorities", () => {
    const { plane, join, submit } = engine();
    const worker = join("w", 100, 0);
    const blocked = Array.from({ length: 50 }, (_, i) => submit("resize", { i }, 0, Priority.CRITICAL));
    const free = submit("free", {}, 0, Priority.LOW);
    plane.dispatcher.runOnce(0);
    expect(blocked.filter((t) => t.state === TaskState.RUNNING)).toHaveLength(2);
    expect(free.state).toBe(TaskState.RUNNING);
    expect(worker.inflight.size).toBe(3);
  });

  it("limits per key value: one customer's backlog does not block another's", () => {
    const { plane, join, submit } = engine();
    join("w", 100, 0);
    const c1 = [submit("tenant", { customer: "c1" }, 0), submit("tenant", { customer: "c1" }, 0)];
    const c2 = submit("tenant", { customer: "c2" }, 0);
    plane.dispatcher.runOnce(0);
    expect([c1[0]!.state, c1[1]!.state, c2.state]).toEqual([TaskState.RUNNING, TaskState.QUEUED, TaskState.RUNNING]);
    expect(plane.statusMessage(c1[1]!, 0)).toMatch(/args:\/customer = "c1"/);
    expect(plane.limits.state("tenant", 0)).toMatchObject({ running: 2, waiting: 1, lanesTotal: 2 });
  });

  it("applies a runtime override at once, counts tasks already running, and falls back when cleared", () => {
    const { plane, join, submit } = engine();
    join("w", 100, 0);
    const tasks = Array.from({ length: 6 }, (_, i) => submit("free", { i }, 0));
    plane.dispatcher.runOnce(0);
    expect(tasks.every((t) => t.state === TaskState.RUNNING)).toBe(true);
    plane.limits.setOverride("free", { concurrency: 3 }, 1);
    const more = submit("free", {}, 1);
    plane.dispatcher.runOnce(1);
    expect(more.state).toBe(TaskState.QUEUED); // 6 running already, over the new limit of 3
    plane.limits.setOverride("resize", { concurrency: null }, 1); // removes the declared limit
    expect(plane.limits.state("resize", 1).effective).toBeUndefined();
    plane.limits.clearOverride("free", 2);
    plane.dispatcher.runOnce(2);
    expect(more.state).toBe(TaskState.RUNNING);
  });
});
