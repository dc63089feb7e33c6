import {
  ConsoleMetricExporter,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type MetricProducer,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import { isTrue } from "../../common/telemetry.js";

/**
 * The push exporters OTEL_METRICS_EXPORTER asks for, as periodic readers
 * fed by `producers` as well as the SDK's own instruments. Unset means none:
 * the control plane always serves Prometheus text on /metrics, and pushes
 * only when told to. Values: `otlp` (protocol from
 * OTEL_EXPORTER_OTLP_METRICS_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL:
 * http/protobuf by default, http/json, grpc), `console`, `prometheus` (that
 * is /metrics, already on), `none`. The interval is OTEL_METRIC_EXPORT_INTERVAL
 * (ms, default 60000). Exporter packages load only when asked for.
 */
export async function metricReadersFromEnv(producers: MetricProducer[], env: NodeJS.ProcessEnv = process.env): Promise<IMetricReader[]> {
  if (isTrue(env.OTEL_SDK_DISABLED)) return [];
  const names = [...new Set((env.OTEL_METRICS_EXPORTER ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
  if (names.includes("none")) return [];
  const readers: IMetricReader[] = [];
  for (const name of names) {
    let exporter: PushMetricExporter;
    if (name === "otlp") exporter = await otlpExporter(env);
    else if (name === "console") exporter = new ConsoleMetricExporter();
    else if (name === "prometheus") continue;
    else throw new Error(`OTEL_METRICS_EXPORTER=${name} is not supported: use otlp, console, prometheus (the /metrics route, always on) or none`);
    readers.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: positiveInt(env, "OTEL_METRIC_EXPORT_INTERVAL", 60_000),
        exportTimeoutMillis: positiveInt(env, "OTEL_METRIC_EXPORT_TIMEOUT", 30_000),
        metricProducers: producers,
      }),
    );
  }
  return readers;
}

async function otlpExporter(env: NodeJS.ProcessEnv): Promise<PushMetricExporter> {
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf").trim();
  switch (protocol) {
    case "http/protobuf":
      return new (await import("@opentelemetry/exporter-metrics-otlp-proto")).OTLPMetricExporter();
    case "http/json":
      return new (await import("@opentelemetry/exporter-metrics-otlp-http")).OTLPMetricExporter();
    case "grpc":
      return new (await import("@opentelemetry/exporter-metrics-otlp-grpc")).OTLPMetricExporter();
    default:
      throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf, http/json or grpc`);
  }
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw} must be a whole number of milliseconds`);
  return n;
}

