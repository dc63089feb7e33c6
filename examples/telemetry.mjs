/**
 * OpenTelemetry for an application that uses fastworker's Client: the
 * standard Node set-up, preloaded so instrumentation is in place before
 * express/fastify, node:http and @grpc/grpc-js load:
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
 *     node --import tsx --import ./examples/telemetry.mjs examples/express-app.ts
 *
 * Plain JavaScript on purpose: a second TypeScript preload after
 * `--import tsx` can hang Node 20 while tsx compiles it (seen with an empty
 * .ts file on a cold tsx cache), so preloads are best kept in .mjs.
 *
 * It does nothing unless OTEL_* asks for traces (the same rule as fw-server
 * and fw-worker), so the app also runs without a collector.
 */
import { register } from "node:module";
import { tracesRequested, UNTRACED_GRPC_METHODS } from "fastworker/telemetry";

if (tracesRequested()) {
  // The ESM loader hook lets instrumentations patch modules the app imports (not only require()s).
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  const { HttpInstrumentation } = await import("@opentelemetry/instrumentation-http");
  const { GrpcInstrumentation } = await import("@opentelemetry/instrumentation-grpc");
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? "example-app",
    instrumentations: [
      new HttpInstrumentation(),
      // The Client's long-lived result stream (Session) would otherwise be one span for the client's whole life.
      new GrpcInstrumentation({ ignoreGrpcMethods: [...UNTRACED_GRPC_METHODS] }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  // Once the app has closed everything and is about to exit, send the last spans.
  process.once("beforeExit", () => {
    sdk.shutdown().catch((err) => console.error("telemetry: could not flush spans:", err));
  });
}
