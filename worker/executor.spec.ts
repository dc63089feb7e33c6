import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AttemptOutcome, Priority, type TaskError } from "../gen/fastworker/v1/task_pb.js";
import { AssignmentSchema } from "../gen/fastworker/v1/worker_service_pb.js";
import { silentLogger } from "../common/logger.js";
import { Executor, type AttemptSink } from "./executor.js";
import { NonRetryableError } from "./non-retryable-error.js";
import type { RunningAttempt } from "./running-attempt.js";
import { task, type TaskContext, type TaskDefinition } from "./task.js";

/** What the executor told its sink, in order. */
type Event =
  | { kind: "ack"; taskId: string }
  | { kind: "finish"; taskId: string; outcome: AttemptOutcome; resultJson: string; error: TaskError | undefined }
  | { kind: "progress"; taskId: string; fraction: number; message: string }
  | { kind: "release"; taskId: string }
  | { kind: "heartbeat" };

class RecordingSink implements AttemptSink {
  readonly events: Event[] = [];
  private wake: (() => void) | undefined;

  ack(run: RunningAttempt): void {
    this.record({ kind: "ack", taskId: run.assignment.taskId });
  }
  finish(run: RunningAttempt, outcome: AttemptOutcome, resultJson: string, error: TaskError | undefined): void {
    this.record({ kind: "finish", taskId: run.assignment.taskId, outcome, resultJson, error });
  }
  progress(run: RunningAttempt, fraction: number, message: string): void {
    this.record({ kind: "progress", taskId: run.assignment.taskId, fraction, message });
  }
  release(run: RunningAttempt): void {
    this.record({ kind: "release", taskId: run.assignment.taskId });
  }
  log(): void {}
  heartbeatSoon(): void {
    this.record({ kind: "heartbeat" });
  }

  /** The outcome reported for a task, once it is (waits for it). */
  async finished(taskId: string): Promise<Extract<Event, { kind: "finish" }>> {
    for (;;) {
      const found = this.events.find((e): e is Extract<Event, { kind: "finish" }> => e.kind === "finish" && e.taskId === taskId);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  count(kind: Event["kind"]): number {
    return this.events.filter((e) => e.kind === kind).length;
  }

  private record(event: Event): void {
    this.events.push(event);
    this.wake?.();
  }
}

function setup(definitions: TaskDefinition[], options: { concurrency?: number; abortGraceMs?: number; maxResultBytes?: number } = {}) {
  const sink = new RecordingSink();
  const executor = new Executor({
    tasks: new Map(definitions.map((d) => [d.name, d])),
    concurrency: options.concurrency ?? 4,
    abortGraceMs: options.abortGraceMs ?? 1000,
    sink,
    logger: silentLogger(),
    maxResultBytes: () => options.maxResultBytes ?? 1024 * 1024,
  });
  return { sink, executor };
}

let ids = 0;
function assignment(name: string, args: unknown, init: { attempt?: number; priority?: Priority; timeoutSeconds?: number; metadata?: Record<string, string> } = {}) {
  return create(AssignmentSchema, { taskId: `t${++ids}`, attempt: 1, task: name, argsJson: args === undefined ? "" : JSON.stringify(args), maxAttempts: 3, ...init });
}

/** A promise and its resolve, for handlers the spec lets finish. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Executor outcomes", () => {
  it("acknowledges, runs the handler with its args and context, and reports the result as JSON", async () => {
    let seen: TaskContext | undefined;
    const { sink, executor } = setup([
      task("add", async (args, ctx) => {
        seen = ctx;
        const { a, b } = args as { a: number; b: number };
        return { sum: a + b };
      }),
    ]);
    const a = assignment("add", { a: 2, b: 3 }, { attempt: 2, priority: Priority.HIGH, metadata: { trace: "x" } });
    executor.start(a, "s1");
    expect(sink.events[0]).toEqual({ kind: "ack", taskId: a.taskId });
    expect(await sink.finished(a.taskId)).toMatchObject({ outcome: AttemptOutcome.SUCCEEDED, resultJson: '{"sum":5}', error: undefined });
    expect(seen).toMatchObject({ taskId: a.taskId, name: "add", attempt: 2, maxAttempts: 3, priority: "high", metadata: { trace: "x" } });
    expect(seen!.signal.aborted).toBe(false);
    expect(executor.running.size).toBe(0);
  });

  it("reports a synchronous handler's result in the same turn, and undefined as null", () => {
    const { sink, executor } = setup([task("nothing", () => undefined)]);
    const a = assignment("nothing", null);
    executor.start(a, "s1");
    expect(sink.events.map((e) => e.kind)).toEqual(["ack", "finish"]);
    expect(sink.events[1]).toMatchObject({ outcome: AttemptOutcome.SUCCEEDED, resultJson: "null" });
  });

  it("fails an attempt whose handler throws: retryable, with message and stack; NonRetryableError is not", async () => {
    const { sink, executor } = setup([
      task("boom", async () => {
        throw new TypeError("bad things");
      }),
      task("fatal", () => {
        throw new NonRetryableError("cannot work with this");
      }),
      task("odd", () => {
        throw { not: "an error" };
      }),
    ]);
    const [boom, fatal, odd] = [assignment("boom", {}), assignment("fatal", {}), assignment("odd", {})];
    for (const a of [boom, fatal, odd]) executor.start(a, "s1");
    expect((await sink.finished(boom.taskId)).error).toMatchObject({ message: "bad things", type: "TypeError", retryable: true, stack: expect.stringContaining("TypeError: bad things") });
    expect((await sink.finished(fatal.taskId)).error).toMatchObject({ message: "cannot work with this", type: "NonRetryableError", retryable: false });
    expect((await sink.finished(odd.taskId)).error).toMatchObject({ message: 'non-error thrown: {"not":"an error"}', retryable: true });
  });

  it("fails at once, without running anything, a task it does not serve or whose args are not JSON", () => {
    const { sink, executor } = setup([task("known", () => 1)]);
    const unknown = assignment("unknown", {});
    const garbled = create(AssignmentSchema, { taskId: "bad-json", attempt: 1, task: "known", argsJson: "{nope" });
    executor.start(unknown, "s1");
    executor.start(garbled, "s1");
    expect(sink.events).toEqual([
      expect.objectContaining({ kind: "finish", taskId: unknown.taskId, outcome: AttemptOutcome.FAILED, error: expect.objectContaining({ type: "UnknownTask", retryable: false, message: 'this worker does not serve "unknown"' }) }),
      expect.objectContaining({ kind: "finish", taskId: "bad-json", outcome: AttemptOutcome.FAILED, error: expect.objectContaining({ type: "InvalidArgs", retryable: false }) }),
    ]);
  });

  it("fails a result that cannot be sent: not JSON, or larger than the control plane keeps", async () => {
    const { sink, executor } = setup([task("bigint", () => 1n), task("huge", () => "x".repeat(2000))], { maxResultBytes: 1000 });
    const [bigint, huge] = [assignment("bigint", {}), assignment("huge", {})];
    executor.start(bigint, "s1");
    executor.start(huge, "s1");
    expect((await sink.finished(bigint.taskId)).error).toMatchObject({ type: "InvalidResult", retryable: false });
    const tooLarge = (await sink.finished(huge.taskId)).error!;
    expect(tooLarge).toMatchObject({ type: "ResultTooLarge", retryable: false });
    expect(tooLarge.message).toContain("--max-payload");
  });

  it("fails a thread-isolated task that was not loaded from a module file, saying why", async () => {
    const { sink, executor } = setup([task("cpu", () => 1, { isolation: "thread" })]);
    const a = assignment("cpu", {});
    executor.start(a, "s1");
    expect((await sink.finished(a.taskId)).error?.message).toMatch(/runs in a thread, which needs it loaded from a task module file/);
  });

  it("passes progress on, clamped to 0..1, and ignores it once the outcome is reported", async () => {
    const done = gate();
    let ctx: TaskContext | undefined;
    const { sink, executor } = setup([
      task("long", async (_args, c) => {
        ctx = c;
        c.progress(0.5, "half");
        c.progress(7);
        expect(() => c.progress(Number.NaN)).toThrow(TypeError);
        await done.promise;
      }),
    ]);
    const a = assignment("long", {});
    executor.start(a, "s1");
    done.open();
    await sink.finished(a.taskId);
    ctx!.progress(0.9, "too late");
    expect(sink.events.filter((e) => e.kind === "progress")).toEqual([
      { kind: "progress", taskId: a.taskId, fraction: 0.5, message: "half" },
      { kind: "progress", taskId: a.taskId, fraction: 1, message: "" },
    ]);
  });
});

describe("Executor timeouts and cancellation", () => {
  it("aborts the handler's signal at the timeout and reports TIMED_OUT (retryable)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let reason: unknown;
    const { sink, executor } = setup([
      task("slow", (_args, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject((reason = ctx.signal.reason))))),
    ]);
    const a = assignment("slow", {}, { timeoutSeconds: 0.5 });
    executor.start(a, "s1");
    await vi.advanceTimersByTimeAsync(499);
    expect(sink.count("finish")).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    const finish = await sink.finished(a.taskId);
    expect(finish).toMatchObject({ outcome: AttemptOutcome.TIMED_OUT, error: { type: "TaskTimeoutError", retryable: true, message: "the attempt timed out after 0.5s" } });
    expect((reason as Error).name).toBe("TaskTimeoutError");
  });

  it("delivers a cancel to the running attempt and reports CANCELLED (not retryable); a cancel for another attempt does nothing", async () => {
    const { sink, executor } = setup([
      task("wait", (_args, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)))),
    ]);
    const a = assignment("wait", {}, { attempt: 2 });
    executor.start(a, "s1");
    executor.cancel(a.taskId, 1, "an older attempt");
    executor.cancel("someone-else", 2, "not ours");
    expect(executor.running.size).toBe(1);
    executor.cancel(a.taskId, 2, "the user changed their mind");
    expect(await sink.finished(a.taskId)).toMatchObject({
      outcome: AttemptOutcome.CANCELLED,
      error: { type: "TaskCancelledError", retryable: false, message: "the task was cancelled: the user changed their mind" },
    });
  });

  it("reports an attempt whose handler ignores its abort after the grace, writes its slot off, and takes it back when the handler returns", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const stuck = gate<string>();
    const { sink, executor } = setup([task("stubborn", () => stuck.promise)], { concurrency: 2, abortGraceMs: 300 });
    const a = assignment("stubborn", {}, { timeoutSeconds: 1 });
    executor.start(a, "s1");
    expect(executor.capacityFor("s1")).toBe(2);
    await vi.advanceTimersByTimeAsync(1000 + 299);
    expect(sink.count("finish")).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    const finish = await sink.finished(a.taskId);
    expect(finish.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(finish.error?.message).toBe("the attempt timed out after 1s; the handler did not stop within 0.3s of its abort signal, and still holds its slot");
    expect(executor.zombies).toBe(1);
    expect(executor.capacityFor("s1")).toBe(1);
    expect(sink.count("heartbeat")).toBe(1);
    await executor.idle(); // its outcome is reported: it no longer counts as running

    stuck.open("finally");
    await vi.waitFor(() => expect(executor.zombies).toBe(0));
    expect(executor.capacityFor("s1")).toBe(2);
    expect(sink.count("heartbeat")).toBe(2);
    expect(sink.count("finish")).toBe(1); // the late return reports nothing
  });
});

describe("Executor capacity and draining", () => {
  it("counts attempts of earlier sessions against the current one", () => {
    const hold = gate();
    const { executor } = setup([task("hold", () => hold.promise)], { concurrency: 3 });
    executor.start(assignment("hold", {}), "old");
    executor.start(assignment("hold", {}), "new");
    expect(executor.capacityFor("new")).toBe(2);
    expect(executor.capacityFor("old")).toBe(2);
    expect(executor.capacityFor(undefined)).toBe(1);
    hold.open();
  });

  it("while draining has no capacity and hands new assignments straight back", () => {
    const { sink, executor } = setup([task("add", () => 1)]);
    executor.draining = true;
    expect(executor.capacityFor("s1")).toBe(0);
    const a = assignment("add", {});
    executor.start(a, "s1");
    expect(sink.events).toEqual([{ kind: "release", taskId: a.taskId }]);
  });

  it("releaseAll() aborts what runs with WorkerShutdownError, hands it back, and nothing is reported for it later", async () => {
    const release = gate();
    let reason: unknown;
    const { sink, executor } = setup([
      task("hold", async (_args, ctx) => {
        await release.promise;
        reason = ctx.signal.reason;
        return "too late";
      }),
    ]);
    const [a, b] = [assignment("hold", {}), assignment("hold", {})];
    executor.start(a, "s1");
    executor.start(b, "s1");
    const idle = executor.idle();
    expect(executor.releaseAll()).toBe(2);
    await idle;
    expect(sink.events.filter((e) => e.kind === "release")).toEqual([
      { kind: "release", taskId: a.taskId },
      { kind: "release", taskId: b.taskId },
    ]);
    release.open();
    await vi.waitFor(() => expect((reason as Error | undefined)?.name).toBe("WorkerShutdownError"));
    expect(sink.count("finish")).toBe(0);
  });

  it("idle() resolves once nothing runs", async () => {
    const done = gate();
    const { executor } = setup([task("hold", () => done.promise)]);
    await executor.idle();
    executor.start(assignment("hold", {}), "s1");
    let idle = false;
    const waiting = executor.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    done.open();
    await waiting;
    expect(executor.running.size).toBe(0);
  });
});
