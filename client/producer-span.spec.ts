import type { MessageInitShape } from "@bufbuild/protobuf";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import type { SubmitBatchResult, SubmitRequestSchema } from "../gen/fastworker/v1/task_service_pb.js";
import { startInMemoryTracing, type InMemoryTracing } from "../test/helpers/in-memory-tracing.js";
import { addTraced, inFirstSubmissionContext } from "./producer-span.js";

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;

/** A sink that records what it was handed and answers `result`. */
function sink(result: Partial<SubmitBatchResult> = { id: "task-1", deduplicated: false }) {
  const added: { request: SubmitInit; activeSpan: string | undefined }[] = [];
  return {
    added,
    add(request: SubmitInit): Promise<SubmitBatchResult> {
      added.push({ request, activeSpan: trace.getActiveSpan()?.spanContext().spanId });
      return Promise.resolve(result as SubmitBatchResult);
    },
  };
}

let tracing: InMemoryTracing | undefined;
afterEach(async () => {
  await tracing?.stop();
  tracing = undefined;
});

describe("addTraced", () => {
  it("with tracing off hands over the very same request, metadata untouched", async () => {
    const target = sink();
    const metadata = { tenant: "a" };
    const request: SubmitInit = { task: "add", argsJson: "{}", metadata };
    await addTraced(target, request, 2);
    expect(target.added[0]!.request).toBe(request);
    expect(request.metadata).toBe(metadata);
    expect(metadata).toEqual({ tenant: "a" });
  });

  it("with tracing on wraps the submission in a producer span whose context travels in the metadata", async () => {
    tracing = startInMemoryTracing();
    const target = sink({ id: "task-7", deduplicated: true });
    const parent = trace.getTracer("test").startSpan("request");
    await context.with(trace.setSpan(context.active(), parent), () =>
      addTraced(target, { task: "add", argsJson: '{"a":1}', priority: 2, metadata: { tenant: "a" } }, 7),
    );
    parent.end();
    const [submit] = tracing.exporter.getFinishedSpans().filter((s) => s.name === "submit add");
    expect(submit).toBeDefined();
    expect(submit!.kind).toBe(SpanKind.PRODUCER);
    expect(submit!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(submit!.attributes).toMatchObject({
      "messaging.system": "fastworker",
      "messaging.operation.name": "submit",
      "messaging.operation.type": "create",
      "messaging.destination.name": "add",
      "messaging.message.id": "task-7",
      "messaging.message.body.size": 7,
      "fastworker.task.priority": "high",
      "fastworker.task.deduplicated": true,
    });
    const sent = target.added[0]!;
    expect(sent.request.metadata).toMatchObject({ tenant: "a", traceparent: expect.stringContaining(submit!.spanContext().spanId) });
  });

  it("marks the span failed when the control plane refuses the submission", async () => {
    tracing = startInMemoryTracing();
    await addTraced(sink({ id: "", error: { code: 3, message: "bad args" } as SubmitBatchResult["error"] }), { task: "add" }, 0);
    const [submit] = tracing.exporter.getFinishedSpans();
    expect(submit!.status).toEqual({ code: SpanStatusCode.ERROR, message: "bad args" });
    expect(submit!.attributes["error.type"]).toBe("InvalidArgument");
  });

  it("keeps a trace context the caller put in the metadata, and makes no span", async () => {
    tracing = startInMemoryTracing();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const request: SubmitInit = { task: "add", metadata: { traceparent } };
    const target = sink();
    await addTraced(target, request, 0);
    expect(target.added[0]!.request.metadata).toEqual({ traceparent });
    expect(tracing.exporter.getFinishedSpans()).toEqual([]);
  });
});

describe("inFirstSubmissionContext", () => {
  it("runs the batch call in the first submission's trace, not the caller's", () => {
    tracing = startInMemoryTracing();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const unrelated = trace.getTracer("test").startSpan("unrelated");
    const seen = context.with(trace.setSpan(context.active(), unrelated), () =>
      inFirstSubmissionContext([{ task: "a", metadata: { traceparent } }, { task: "b" }], () => trace.getSpanContext(context.active())),
    );
    unrelated.end();
    expect(seen).toMatchObject({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" });
    const untraced = context.with(trace.setSpan(context.active(), unrelated), () =>
      inFirstSubmissionContext([{ task: "a" }], () => trace.getSpanContext(context.active())),
    );
    expect(untraced).toBeUndefined();
    expect(propagation.fields()).toContain("traceparent");
  });
});
