import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

/** A registered in-process tracer provider whose finished spans a test can read. */
export interface InMemoryTracing {
  readonly exporter: InMemorySpanExporter;
  /** Unregisters the provider, context manager and propagator (tracing is off again). */
  stop(): Promise<void>;
}

/**
 * Registers an SDK the way an application would (NodeTracerProvider.register:
 * AsyncLocalStorage context, W3C propagator) with an in-memory exporter, for
 * unit tests of the traced paths. Each vitest file runs in its own process.
 */
export function startInMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    exporter,
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
