import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { SessionAcceptedSchema, type SubmitRequestSchema } from "../gen/fastworker/v1/task_service_pb.js";
import { startInMemoryTracing, type InMemoryTracing } from "../test/helpers/in-memory-tracing.js";
import { submitTraced } from "./producer-span.js";
import type { Submitted } from "./session.js";

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;

/** A session stand-in that records what it was handed and accepts (or refuses) it. */
function sink(answer: { id: string; deduplicated?: boolean } | ConnectError = { id: "task-1" }) {
  const submitted: SubmitInit[] = [];
  return {
    submitted,
    submit(request: SubmitInit): Promise<Submitted> {
      submitted.push(request);
      if (answer instanceof ConnectError) return Promise.reject(answer);
      return Promise.resolve({ accepted: create(SessionAcceptedSchema, answer), outcome: undefined });
    },
  };
}

let tracing: InMemoryTracing | undefined;
afterEach(async () => {
  await tracing?.stop();
  tracing = undefined;
});

describe("submitTraced", () => {
  it("with tracing off hands over the very same request, metadata untouched", async () => {
    const target = sink();
    const metadata = { tenant: "a" };
    const request: SubmitInit = { task: "add", argsJson: "{}", metadata };
    await submitTraced(target, request, 2, true);
    expect(target.submitted[0]).toBe(request);
    expect(request.metadata).toBe(metadata);
    expect(metadata).toEqual({ tenant: "a" });
  });

  it("with tracing on wraps the submission in a producer span whose context travels in the metadata", async () => {
    tracing = startInMemoryTracing();
    const target = sink({ id: "task-7", deduplicated: true });
    const parent = trace.getTracer("test").startSpan("request");
    await context.with(trace.setSpan(context.active(), parent), () =>
      submitTraced(target, { task: "add", argsJson: '{"a":1}', priority: 2, metadata: { tenant: "a" } }, 7, true),
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
    expect(target.submitted[0]!.metadata).toMatchObject({ tenant: "a", traceparent: expect.stringContaining(submit!.spanContext().spanId) });
  });

  it("marks the span failed when the control plane refuses the submission", async () => {
    tracing = startInMemoryTracing();
    const refusal = new ConnectError("bad args", Code.InvalidArgument);
    await expect(submitTraced(sink(refusal), { task: "add" }, 0, true)).rejects.toBe(refusal);
    const [submit] = tracing.exporter.getFinishedSpans();
    expect(submit!.status).toEqual({ code: SpanStatusCode.ERROR, message: "bad args" });
    expect(submit!.attributes["error.type"]).toBe("InvalidArgument");
  });

  it("keeps a trace context the caller put in the metadata, and makes no span", async () => {
    tracing = startInMemoryTracing();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const target = sink();
    await submitTraced(target, { task: "add", metadata: { traceparent } }, 0, true);
    expect(target.submitted[0]!.metadata).toEqual({ traceparent });
    expect(tracing.exporter.getFinishedSpans()).toEqual([]);
  });
});
