import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { startInMemoryTracing, type InMemoryTracing } from "../test/helpers/in-memory-tracing.js";
import { create } from "@bufbuild/protobuf";
import { AssignmentSchema } from "../gen/fastworker/v1/worker_service_pb.js";
import { traceHandlers, traceThreadAttempt } from "./consumer-span.js";
import { task, type TaskContext, type TaskDefinition } from "./task.js";
import { TaskTimeoutError } from "./task-timeout-error.js";

const CREATION = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" };

function ctx(attempt: number, metadata: Record<string, string> = { traceparent: `00-${CREATION.traceId}-${CREATION.spanId}-01` }): TaskContext {
  return {
    taskId: "task-1",
    name: "work",
    attempt,
    maxAttempts: 3,
    priority: "high",
    signal: new AbortController().signal,
    metadata,
    progress: () => {},
    log: () => {},
  };
}

function tasks(...definitions: TaskDefinition[]): Map<string, TaskDefinition> {
  return new Map(definitions.map((d) => [d.name, d]));
}

let tracing: InMemoryTracing | undefined;
afterEach(async () => {
  await tracing?.stop();
  tracing = undefined;
});

describe("traceHandlers", () => {
  it("with tracing off returns the handlers as they are", () => {
    const map = tasks(task("work", () => 1));
    expect(traceHandlers(map)).toBe(map);
  });

  it("runs each attempt in a consumer span, child of and linked to the creation context", async () => {
    tracing = startInMemoryTracing();
    let activeInHandler: string | undefined;
    const traced = traceHandlers(
      tasks(task("work", async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
        return 2;
      })),
    );
    expect(await traced.get("work")!.handler({}, ctx(1))).toBe(2);
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span!.name).toBe("execute work");
    expect(span!.kind).toBe(SpanKind.CONSUMER);
    expect(span!.spanContext().traceId).toBe(CREATION.traceId);
    expect(span!.parentSpanContext?.spanId).toBe(CREATION.spanId);
    expect(span!.links.map((l) => l.context.spanId)).toEqual([CREATION.spanId]);
    expect(activeInHandler).toBe(span!.spanContext().spanId);
    expect(span!.attributes).toMatchObject({
      "messaging.system": "fastworker",
      "messaging.operation.name": "execute",
      "messaging.operation.type": "process",
      "messaging.destination.name": "work",
      "messaging.message.id": "task-1",
      "fastworker.task.priority": "high",
      "fastworker.task.attempt": 1,
      "fastworker.task.max_attempts": 3,
      "fastworker.task.outcome": "succeeded",
    });
  });

  it("records failures, sync throws and timeouts with their outcome", async () => {
    tracing = startInMemoryTracing();
    const traced = traceHandlers(
      tasks(
        task("work", (_args: unknown, c) => {
          if (c.attempt === 1) throw new TypeError("sync");
          return Promise.reject(new TaskTimeoutError(10));
        }),
      ),
    );
    const handler = traced.get("work")!.handler;
    expect(() => handler({}, ctx(1))).toThrow("sync");
    await expect(handler({}, ctx(2))).rejects.toThrow(TaskTimeoutError);
    const [first, second] = tracing.exporter.getFinishedSpans();
    expect(first!.attributes).toMatchObject({ "fastworker.task.outcome": "failed", "error.type": "TypeError" });
    expect(first!.status).toEqual({ code: SpanStatusCode.ERROR, message: "sync" });
    expect(second!.attributes).toMatchObject({ "fastworker.task.outcome": "timed_out", "error.type": "TaskTimeoutError" });
  });

  it("starts a new trace for a task submitted without trace context", () => {
    tracing = startInMemoryTracing();
    traceHandlers(tasks(task("work", () => 1))).get("work")!.handler({}, ctx(1, {}));
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.links).toEqual([]);
  });

  it("leaves thread-isolated tasks as they are: the thread pool finds their module by identity", () => {
    tracing = startInMemoryTracing();
    const threaded = task("heavy", () => 1, { isolation: "thread" });
    const onMain = task("work", () => 1);
    const traced = traceHandlers(tasks(threaded, onMain));
    expect(traced.get("heavy")).toBe(threaded);
    expect(traced.get("work")!.handler).not.toBe(onMain.handler);
  });
});

describe("traceThreadAttempt", () => {
  const assignment = create(AssignmentSchema, {
    taskId: "task-2",
    attempt: 2,
    task: "heavy",
    priority: 4,
    maxAttempts: 2,
    metadata: { traceparent: `00-${CREATION.traceId}-${CREATION.spanId}-01` },
  });

  it("with tracing off returns the thread's result untouched", () => {
    const result = Promise.resolve(1);
    expect(traceThreadAttempt(assignment, result)).toBe(result);
  });

  it("spans the thread's run in the task's trace", async () => {
    tracing = startInMemoryTracing();
    await traceThreadAttempt(assignment, Promise.resolve(1));
    await expect(traceThreadAttempt(assignment, Promise.reject(new RangeError("too big")))).rejects.toThrow("too big");
    const [ok, failed] = tracing.exporter.getFinishedSpans();
    expect(ok!.name).toBe("execute heavy");
    expect(ok!.parentSpanContext?.spanId).toBe(CREATION.spanId);
    expect(ok!.attributes).toMatchObject({ "messaging.message.id": "task-2", "fastworker.task.attempt": 2, "fastworker.task.priority": "low", "fastworker.task.outcome": "succeeded" });
    expect(failed!.attributes).toMatchObject({ "fastworker.task.outcome": "failed", "error.type": "RangeError" });
  });
});
