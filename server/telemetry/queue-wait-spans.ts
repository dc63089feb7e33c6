import { propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Tracer } from "@opentelemetry/api";
import { priorityName } from "../../common/priority.js";
import { ATTR, MESSAGING_SYSTEM } from "../../common/tracing-attributes.js";
import type { ControlPlaneEvents } from "../engine/events.js";
import type { AttemptRecord, TaskRecord } from "../store/task-record.js";
import { waitingSince } from "../engine/waiting-since.js";

/**
 * The time each attempt spent waiting, as a span in the task's trace:
 * "queued {task}", from the moment the task was submitted (or its previous
 * attempt ended) to the moment this attempt was dispatched, so it includes a
 * submission delay or a retry's backoff. Its parent is the task's creation
 * context (the producer span), read from the task's metadata; it is a
 * sibling of the attempt's "execute" span.
 *
 * The control plane records it, not the worker, because both ends are on the
 * control plane's clock (a worker's clock may differ) and only the control
 * plane knows when a retry was queued again. It is made only for tasks that
 * arrived with a sampled trace context, and only while tracing is on in this
 * process: otherwise this listener is never registered.
 */
export class QueueWaitSpans {
  constructor(
    private readonly events: ControlPlaneEvents,
    private readonly tracer: Tracer,
  ) {}

  start(): void {
    this.events.on("task.dispatched", this.onDispatched);
  }

  stop(): void {
    this.events.off("task.dispatched", this.onDispatched);
  }

  private readonly onDispatched = (task: TaskRecord, attempt: AttemptRecord): void => {
    const metadata = task.options.metadata;
    const traceparent = metadata?.traceparent;
    // "00-<trace id>-<span id>-<flags>": skip unsampled tasks before paying for an extraction.
    if (traceparent === undefined || !sampledFlag(traceparent)) return;
    const creation = propagation.extract(ROOT_CONTEXT, metadata!);
    const parent = trace.getSpanContext(creation);
    if (parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) === 0) return;
    const span = this.tracer.startSpan(
      `queued ${task.name}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: waitingSince(task, attempt),
        attributes: {
          [ATTR.system]: MESSAGING_SYSTEM,
          [ATTR.destination]: task.name,
          [ATTR.messageId]: task.id,
          [ATTR.priority]: priorityName(task.priority),
          [ATTR.attempt]: attempt.number,
          [ATTR.worker]: attempt.workerName,
        },
      },
      creation,
    );
    span.end(attempt.dispatchedAt);
  };
}

/** Whether a W3C traceparent's flags have the sampled bit (malformed ones answer false). */
function sampledFlag(traceparent: string): boolean {
  return traceparent.length >= 55 && (Number.parseInt(traceparent.slice(53, 55), 16) & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}
