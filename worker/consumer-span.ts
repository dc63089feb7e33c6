import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import type { Assignment } from "../gen/fastworker/v1/worker_service_pb.js";
import { priorityName } from "../common/priority.js";
import { activeTracer, errorText, errorType } from "../common/tracing.js";
import { ATTR, MESSAGING_SYSTEM } from "../common/tracing-attributes.js";
import type { TaskDefinition, TaskHandler } from "./task.js";

/** What an execute span says about the attempt. */
interface AttemptFacts {
  name: string;
  taskId: string;
  attempt: number;
  maxAttempts: number;
  priority: string;
  metadata: Readonly<Record<string, string>>;
}

/**
 * With tracing on, wraps every handler that runs on the worker's main thread
 * so each attempt runs inside a CONSUMER span "execute {task}" (messaging
 * operation type "process"), active while the handler runs, so the
 * handler's own spans nest under it. The span's parent is the task's
 * creation context, read from the metadata the submitter injected (so the
 * web request, the submission, every attempt and the handler's spans form
 * one trace), and it also links to that context, as the messaging
 * conventions ask of process spans. Tasks with `isolation: "thread"` are left
 * as they are (the thread pool finds them by identity); the executor traces
 * those with {@link traceThreadAttempt}.
 *
 * Decided once, when the worker is made: with tracing off the handlers are
 * returned as they are and an attempt costs exactly what it did. Register the
 * OpenTelemetry SDK before creating a Worker.
 */
export function traceHandlers(tasks: ReadonlyMap<string, TaskDefinition>): ReadonlyMap<string, TaskDefinition> {
  const tracer = activeTracer();
  if (tracer === undefined) return tasks;
  const traced = new Map<string, TaskDefinition>();
  for (const [name, definition] of tasks) {
    traced.set(name, definition.options.isolation === "thread" ? definition : { ...definition, handler: tracedHandler(definition.handler, tracer) });
  }
  return traced;
}

/**
 * The execute span of an attempt running in a task thread: from the hand-off
 * to the thread to its result. The handler's own spans are not in it (a
 * thread has no OpenTelemetry SDK of its own). Returns `result` itself; with
 * tracing off it does nothing else.
 */
export function traceThreadAttempt(assignment: Assignment, result: Promise<unknown>): Promise<unknown> {
  const tracer = activeTracer();
  if (tracer === undefined) return result;
  const { span } = startExecuteSpan(tracer, {
    name: assignment.task,
    taskId: assignment.taskId,
    attempt: assignment.attempt,
    maxAttempts: assignment.maxAttempts,
    priority: priorityName(assignment.priority),
    metadata: assignment.metadata,
  });
  result.then(
    () => endSucceeded(span),
    (err: unknown) => endFailed(span, err),
  );
  return result;
}

function startExecuteSpan(tracer: Tracer, facts: AttemptFacts): { span: Span; context: Context } {
  const creation = facts.metadata.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, facts.metadata);
  const creationSpan = trace.getSpanContext(creation);
  const span = tracer.startSpan(`execute ${facts.name}`, { kind: SpanKind.CONSUMER }, creation);
  // An unsampled span records nothing: do not build its attributes and link.
  if (span.isRecording()) {
    span.setAttributes({
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.operationName]: "execute",
      [ATTR.operationType]: "process",
      [ATTR.destination]: facts.name,
      [ATTR.messageId]: facts.taskId,
      [ATTR.priority]: facts.priority,
      [ATTR.attempt]: facts.attempt,
      [ATTR.maxAttempts]: facts.maxAttempts,
    });
    if (creationSpan !== undefined) span.addLink({ context: creationSpan });
  }
  return { span, context: trace.setSpan(creation, span) };
}

function tracedHandler(handler: TaskHandler<unknown, unknown>, tracer: Tracer): TaskHandler<unknown, unknown> {
  return (args, ctx) => {
    const { span, context: spanContext } = startExecuteSpan(tracer, ctx);
    let value: unknown;
    try {
      value = context.with(spanContext, handler, undefined, args, ctx);
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
