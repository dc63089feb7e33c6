import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { INSTRUMENTATION_SCOPE } from "./tracing-attributes.js";
import { VERSION } from "./version.js";

/**
 * The one switch every traced path asks (fastworker's tracer, or none while
 * no SDK is registered), and the error helpers spans share. The attribute
 * names are in tracing-attributes.ts, which loads no OpenTelemetry module.
 */

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
