import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from "@opentelemetry/api";
import { activeTracer, ATTR, errorText, errorType, MESSAGING_SYSTEM } from "../common/tracing.js";
import type { TaskDefinition, TaskHandler } from "./task.js";

/**
 * With tracing on, wraps every handler so each attempt runs inside a
 * CONSUMER span "execute {task}" (messaging operation type "process"). The
 * span's parent is the task's creation context, read from the metadata the
 * submitter injected (so the web request, the submission, every attempt and
 * the handler's own spans form one trace), and it also links to that
 * context, as the messaging conventions ask of process spans.
 *
 * Decided once, when the worker is made: with tracing off the handlers are
 * returned as they are and an attempt costs exactly what it did. Register the
 * OpenTelemetry SDK before creating a Worker.
 */
export function traceHandlers(tasks: ReadonlyMap<string, TaskDefinition>, workerName: string): ReadonlyMap<string, TaskDefinition> {
  const tracer = activeTracer();
  if (tracer === undefined) return tasks;
  const traced = new Map<string, TaskDefinition>();
  for (const [name, definition] of tasks) {
    traced.set(name, { ...definition, handler: tracedHandler(definition.handler, tracer, workerName) });
  }
  return traced;
}

function tracedHandler(handler: TaskHandler<unknown, unknown>, tracer: Tracer, workerName: string): TaskHandler<unknown, unknown> {
  return (args, ctx) => {
    const creation = ctx.metadata.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, ctx.metadata);
    const creationSpan = trace.getSpanContext(creation);
    const span = tracer.startSpan(
      `execute ${ctx.name}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.operationName]: "execute",
          [ATTR.operationType]: "process",
          [ATTR.destination]: ctx.name,
          [ATTR.messageId]: ctx.taskId,
          [ATTR.clientId]: workerName,
          [ATTR.priority]: ctx.priority,
          [ATTR.attempt]: ctx.attempt,
          [ATTR.maxAttempts]: ctx.maxAttempts,
        },
        links: creationSpan === undefined ? undefined : [{ context: creationSpan }],
      },
      creation,
    );
    let value: unknown;
    try {
      value = context.with(trace.setSpan(creation, span), handler, undefined, args, ctx);
    } catch (err) {
      endFailed(span, err);
      throw err;
    }
    if (isPromiseLike(value)) {
      value.then(
        () => endSucceeded(span),
        (err: unknown) => endFailed(span, err),
      );
    } else {
      endSucceeded(span);
    }
    return value;
  };
}

function endSucceeded(span: Span): void {
  span.setAttribute(ATTR.outcome, "succeeded");
  span.end();
}

function endFailed(span: Span, err: unknown): void {
  const type = errorType(err);
  span.setAttribute(ATTR.outcome, OUTCOME_BY_ERROR[type] ?? "failed");
  span.setAttribute(ATTR.errorType, type);
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(err) });
  span.end();
}

/** The attempt outcome an abort reason stands for (see the executor); anything else thrown is a failure. */
const OUTCOME_BY_ERROR: Readonly<Record<string, string>> = {
  TaskTimeoutError: "timed_out",
  TaskCancelledError: "cancelled",
  WorkerShutdownError: "released",
};

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}
