import type { MessageInitShape } from "@bufbuild/protobuf";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { Code, ConnectError } from "@connectrpc/connect";
import type { SubmitRequestSchema } from "../gen/fastworker/v1/task_service_pb.js";
import { priorityName } from "../common/priority.js";
import { activeTracer, errorText, errorType } from "../common/tracing.js";
import { ATTR, MESSAGING_SYSTEM } from "../common/tracing-attributes.js";
import type { Submitted } from "./session.js";

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;

/** What takes one submission and answers its acceptance (the client's Session stream). */
export interface SubmissionSink {
  submit(request: SubmitInit, follow: boolean): Promise<Submitted>;
}

/**
 * Hands one submission to the session. With tracing on, it goes inside a
 * PRODUCER span "submit {task}" (messaging operation type "create": the
 * submission travels batched with others on the session stream), and that
 * span's context is injected into the task's metadata, where the control
 * plane and the worker find it. With tracing off this is a plain call.
 *
 * A submission whose metadata already carries a trace context keeps it, as
 * the messaging conventions ask: no span is made and nothing is overwritten.
 */
export function submitTraced(sink: SubmissionSink, request: SubmitInit, bytes: number, follow: boolean): Promise<Submitted> {
  const tracer = activeTracer();
  if (tracer === undefined || request.metadata?.traceparent !== undefined) return sink.submit(request, follow);
  return submitInSpan(tracer, sink, request, bytes, follow);
}

async function submitInSpan(tracer: Tracer, sink: SubmissionSink, request: SubmitInit, bytes: number, follow: boolean): Promise<Submitted> {
  const task = request.task ?? "";
  const span = tracer.startSpan(`submit ${task}`, { kind: SpanKind.PRODUCER });
  // An unsampled span records nothing: do not build its attributes.
  if (span.isRecording()) {
    span.setAttributes({
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.operationName]: "submit",
      [ATTR.operationType]: "create",
      [ATTR.destination]: task,
      [ATTR.bodySize]: bytes,
    });
    if (request.priority) span.setAttribute(ATTR.priority, priorityName(request.priority));
  }
  const metadata: Record<string, string> = { ...request.metadata };
  propagation.inject(trace.setSpan(context.active(), span), metadata);
  request.metadata = metadata;
  try {
    const submitted = await sink.submit(request, follow);
    if (span.isRecording()) {
      span.setAttribute(ATTR.messageId, submitted.accepted.id);
      if (submitted.accepted.deduplicated) span.setAttribute(ATTR.deduplicated, true);
    }
    return submitted;
  } catch (err) {
    span.setAttribute(ATTR.errorType, err instanceof ConnectError ? Code[err.code] : errorType(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof ConnectError ? err.rawMessage : errorText(err) });
    throw err;
  } finally {
    span.end();
  }
}
