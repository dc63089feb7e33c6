import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { VERSION } from "./version.js";

/**
 * fastworker's tracing vocabulary and the one switch every traced path asks.
 * Spans follow the OpenTelemetry messaging semantic conventions; the names
 * below are the attributes they carry (ARCHITECTURE.md, "Tracing").
 */

/** The instrumentation scope of fastworker's own spans and metrics. */
export const INSTRUMENTATION_SCOPE = "fastworker";

/** `messaging.system` of every fastworker span. */
export const MESSAGING_SYSTEM = "fastworker";

/** Attribute keys: the messaging conventions' own, then fastworker's (namespaced as the conventions ask). */
export const ATTR = {
  system: "messaging.system",
  operationName: "messaging.operation.name",
  operationType: "messaging.operation.type",
  destination: "messaging.destination.name",
  messageId: "messaging.message.id",
  bodySize: "messaging.message.body.size",
  errorType: "error.type",
  priority: "fastworker.task.priority",
  attempt: "fastworker.task.attempt",
  maxAttempts: "fastworker.task.max_attempts",
  deduplicated: "fastworker.task.deduplicated",
  outcome: "fastworker.task.outcome",
  worker: "fastworker.worker.name",
} as const;

// What an unconfigured global provider delegates to: the API's no-op provider.
const NOOP_DELEGATE = new ProxyTracerProvider().getDelegate();
let cached: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * fastworker's tracer when an OpenTelemetry SDK is registered, else
 * undefined. Traced paths ask this first and do nothing more when it answers
 * undefined, so tracing costs no allocation while it is off. The check reads
 * the global provider each time (a few property reads), so a Client created
 * before the application registered its SDK still traces.
 */
export function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  // A provider registered through another copy of @opentelemetry/api is not
  // our ProxyTracerProvider: treat it as configured (correct, if not free).
  if (provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_DELEGATE) return undefined;
  if (cached === undefined || cached.provider !== provider) {
    cached = { provider, tracer: provider.getTracer(INSTRUMENTATION_SCOPE, VERSION) };
  }
  return cached.tracer;
}

/** The error.type of a thrown value: its class name, as the conventions ask. */
export function errorType(err: unknown): string {
  return err instanceof Error ? err.name : "_OTHER";
}

/** A thrown value's message, for span status descriptions. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
