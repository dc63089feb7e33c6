/**
 * fastworker's tracing vocabulary, apart from the OpenTelemetry API so that
 * code needing only the names (the control plane's metrics) does not load it.
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

/**
 * The key under which @opentelemetry/api 1.x keeps what is registered
 * globally (`Symbol.for("opentelemetry.js.api.1")`, its `internal/global-utils`):
 * the contract that lets every copy of the API in a process share one
 * provider, so it stays while the API's major version does.
 */
const OTEL_API_GLOBALS = Symbol.for("opentelemetry.js.api.1");

/**
 * Whether an OpenTelemetry tracer provider has been registered in this
 * process (by any copy of @opentelemetry/api 1.x), read without loading the
 * API: the control plane asks this at start and loads the API and its span
 * code only when it answers true, then asks `activeTracer()` (tracing.ts),
 * which decides. False means `activeTracer()` would answer undefined.
 */
export function tracerProviderRegistered(): boolean {
  const globals = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_API_GLOBALS];
  return globals?.trace !== undefined;
}
