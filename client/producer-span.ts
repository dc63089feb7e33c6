import type { MessageInitShape } from "@bufbuild/protobuf";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { Code } from "@connectrpc/connect";
import type { SubmitBatchResult, SubmitRequestSchema } from "../gen/fastworker/v1/task_service_pb.js";
import { priorityName } from "../common/priority.js";
import { activeTracer, ATTR, errorText, errorType, MESSAGING_SYSTEM } from "../common/tracing.js";

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;

/** What takes one submission and answers its per-item result (the SubmitBatcher). */
export interface SubmissionSink {
  add(request: SubmitInit, bytes: number): Promise<SubmitBatchResult>;
}

/**
 * Hands one submission to the batcher. With tracing on, it goes inside a
 * PRODUCER span "submit {task}" (messaging operation type "create": the
 * submission is batched with others on the wire), and that span's context is
 * injected into the task's metadata, where the worker and the control plane
 * find it. With tracing off this is a plain call.
 *
 * A submission whose metadata already carries a trace context keeps it, as
 * the messaging conventions ask: no span is made and nothing is overwritten.
 */
export function addTraced(sink: SubmissionSink, request: SubmitInit, bytes: number): Promise<SubmitBatchResult> {
  const tracer = activeTracer();
  if (tracer === undefined || request.metadata?.traceparent !== undefined) return sink.add(request, bytes);
  return addInSpan(tracer, sink, request, bytes);
}

/**
 * Runs a SubmitBatch call in the trace of the batch's first submission, so
 * its gRPC span (instrumentation-grpc) is a child of that submission's
 * producer span, and never of whatever context happened to schedule the
 * batch. Per batch, not per task; a plain call with tracing off.
 */
export function inFirstSubmissionContext<T>(requests: readonly SubmitInit[], send: () => T): T {
  if (activeTracer() === undefined) return send();
  const carrier = requests[0]?.metadata;
  const parent = carrier?.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier);
  return context.with(parent, send);
}

async function addInSpan(tracer: Tracer, sink: SubmissionSink, request: SubmitInit, bytes: number): Promise<SubmitBatchResult> {
  const task = request.task ?? "";
  const span = tracer.startSpan(`submit ${task}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.operationName]: "submit",
      [ATTR.operationType]: "create",
      [ATTR.destination]: task,
      [ATTR.bodySize]: bytes,
      ...(request.priority ? { [ATTR.priority]: priorityName(request.priority) } : {}),
    },
  });
  const spanContext = trace.setSpan(context.active(), span);
  const metadata: Record<string, string> = { ...request.metadata };
  propagation.inject(spanContext, metadata);
  request.metadata = metadata;
  try {
    // No context.with here: the batch's gRPC call takes this span as parent from the metadata (inFirstSubmissionContext).
    const result = await sink.add(request, bytes);
    if (result.error !== undefined) {
      span.setAttribute(ATTR.errorType, Code[result.error.code] ?? String(result.error.code));
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
    } else {
      span.setAttribute(ATTR.messageId, result.id);
      if (result.deduplicated) span.setAttribute(ATTR.deduplicated, true);
    }
    return result;
  } catch (err) {
    span.setAttribute(ATTR.errorType, errorType(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
    throw err;
  } finally {
    span.end();
  }
}
