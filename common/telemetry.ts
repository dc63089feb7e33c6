import { register } from "node:module";

/**
 * OpenTelemetry set-up for fastworker processes ("fastworker/telemetry"):
 * how the standard OTEL_* variables switch tracing on, and the SDK start the
 * fw-server and fw-worker commands run before anything else.
 */

/** OTEL_* booleans: "true" in any case is true, anything else false (the specification's rule). */
export function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === "true";
}

/**
 * Whether the environment asks for traces: OTEL_TRACES_EXPORTER names an
 * exporter other than "none", or an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
 * OTEL_SDK_DISABLED is not true. Unlike the SDK's own default (export to
 * localhost:4318 when nothing is set), tracing is off until configured.
 */
export function tracesRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (exporters.length > 0) return !exporters.includes("none");
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * The long-lived streams are not traced as gRPC calls: a client's Session
 * (its submissions and results), a worker's Dispatch and ReportResults, the
 * dashboard's watches. One stream carries many tasks of many traces and lives
 * for hours: a span for it would belong to none of them. The per-task spans
 * stand for them: "submit", "queued", "execute".
 */
export const UNTRACED_GRPC_METHODS: readonly string[] = ["Session", "Dispatch", "ReportResults", "WatchStats", "WatchTasks"];

/** Options for {@link startTelemetry}. */
export interface TelemetryOptions {
  /** service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES set one. */
  serviceName: string;
}

/** A running OpenTelemetry SDK. */
export interface Telemetry {
  /** Flushes spans still batched and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing for fw-server and fw-worker when the standard
 * OTEL_* variables ask for it (see tracesRequested), and does nothing at all
 * otherwise: the SDK is not even loaded. It must run before anything imports
 * @grpc/grpc-js, so that instrumentation-grpc can patch it; the commands'
 * entry points (cli/bin) call it first and import the command after. An
 * application can do the same from a module it preloads with `node --import`.
 *
 * The exporter, protocol, endpoint, sampler, propagators and resource come
 * from the environment through the SDK's own NodeSDK (OTEL_TRACES_EXPORTER,
 * OTEL_EXPORTER_OTLP_*, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS, ...). Metrics
 * are not set up here: the control plane has its own provider
 * (server/metrics), and OTEL_METRICS_EXPORTER feeds it.
 */
export async function startTelemetry(options: TelemetryOptions, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry | undefined> {
  if (!tracesRequested(env)) return undefined;
  // Intercept only grpc-js's ESM import: task modules and everything else load untouched.
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url, { data: { include: ["@grpc/grpc-js"] } });
  const [{ NodeSDK }, { GrpcInstrumentation }, { diag, DiagConsoleLogger, DiagLogLevel }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/instrumentation-grpc"),
    import("@opentelemetry/api"),
  ]);
  // Export failures would otherwise be silent: say so on stderr unless OTEL_LOG_LEVEL chose otherwise.
  if (env.OTEL_LOG_LEVEL === undefined) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const namedByEnv = Boolean(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? "");
  const sdk = new NodeSDK({
    ...(namedByEnv ? {} : { serviceName: options.serviceName }),
    instrumentations: [new GrpcInstrumentation({ ignoreGrpcMethods: [...UNTRACED_GRPC_METHODS] })],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
