import type { IncomingMessage, ServerResponse } from "node:http";
import type { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import type { IMetricReader, MeterProvider } from "@opentelemetry/sdk-metrics";
import { INSTRUMENTATION_SCOPE } from "../../common/tracing-attributes.js";
import { VERSION } from "../../common/version.js";
import type { ControlPlane } from "../engine/control-plane.js";
import type { HttpRoute } from "../transport/http-server.js";
import { observeControlPlane } from "./state-metrics.js";
import { observeLimits } from "./limit-metrics.js";
import { TaskMetrics } from "./task-metrics.js";

/** Options for {@link ServerMetrics.create}. */
export interface ServerMetricsOptions {
  plane: ControlPlane;
  /** Push readers besides /metrics (default: what OTEL_METRICS_EXPORTER asks for). */
  readers?: IMetricReader[];
  /** service.name when OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES do not say (default "fw-server"). */
  serviceName?: string;
}

/**
 * The control plane's metrics: one OpenTelemetry MeterProvider whose
 * instruments (event-fed {@link TaskMetrics}, state read at collection by
 * {@link observeControlPlane}) feed every reader alike: the Prometheus text
 * on /metrics, and any OTLP or console exporter OTEL_METRICS_EXPORTER names.
 * The provider is private to the control plane (not registered globally), so
 * an application embedding startServer keeps its own.
 *
 * The SDK is loaded when it is first needed: at once when something is
 * pushed (OTEL_METRICS_EXPORTER, or readers given), else at the first
 * scrape of /metrics. Counting starts with the control plane either way
 * (TaskMetrics is ours, and the state is read at collection), so a first
 * scrape sees everything; a control plane nobody scrapes keeps the SDK's
 * modules (about 2 MiB of RSS, measured) out of memory.
 */
export class ServerMetrics {
  private sdk: Promise<{ provider: MeterProvider; prometheus: PrometheusExporter }> | undefined;
  private stopped = false;

  private constructor(
    private readonly options: ServerMetricsOptions,
    private readonly taskMetrics: TaskMetrics,
  ) {}

  /** Builds what counts, and the provider with its readers when something is pushed; call start() to begin counting. */
  static async create(options: ServerMetricsOptions): Promise<ServerMetrics> {
    const metrics = new ServerMetrics(options, new TaskMetrics(options.plane.events));
    const env = process.env;
    if (options.readers !== undefined || (env.OTEL_METRICS_EXPORTER ?? "").trim() !== "") await metrics.loadSdk();
    return metrics;
  }

  start(): void {
    this.taskMetrics.start();
  }

  /** Stops counting and flushes the push exporters one last time. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.taskMetrics.stop();
    const sdk = await this.sdk?.catch(() => undefined);
    await sdk?.provider.shutdown();
  }

  private loadSdk(): Promise<{ provider: MeterProvider; prometheus: PrometheusExporter }> {
    return (this.sdk ??= (async () => {
      const [{ PrometheusExporter }, { defaultResource, detectResources, envDetector, resourceFromAttributes }, { MeterProvider }, { metricReadersFromEnv }] =
        await Promise.all([
          import("@opentelemetry/exporter-prometheus"),
          import("@opentelemetry/resources"),
          import("@opentelemetry/sdk-metrics"),
          import("./readers-from-env.js"),
        ]);
      const { options, taskMetrics } = this;
      const prometheus = new PrometheusExporter({ preventServerStart: true, metricProducers: [taskMetrics], withoutScopeInfo: true });
      const pushReaders = options.readers ?? (await metricReadersFromEnv([taskMetrics]));
      const resource = defaultResource()
        .merge(resourceFromAttributes({ "service.name": options.serviceName ?? "fw-server" }))
        .merge(detectResources({ detectors: [envDetector] }));
      const provider = new MeterProvider({ resource, readers: [prometheus, ...pushReaders] });
      observeControlPlane(provider.getMeter(INSTRUMENTATION_SCOPE, VERSION), options.plane);
      observeLimits(provider.getMeter(INSTRUMENTATION_SCOPE, VERSION), options.plane);
      return { provider, prometheus };
    })());
  }

  /**
   * The /metrics route: Prometheus text format. The HTTP port checks the
   * caller first: with credentials it needs one with the read scope, like
   * every read RPC (Prometheus: `authorization: { credentials: <token> }`
   * in the scrape config).
   */
  route(): HttpRoute {
    return (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
        res.end("use GET /metrics\n");
        return;
      }
      this.loadSdk().then(
        ({ prometheus }) => {
          if (this.stopped) {
            res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
            res.end("the control plane is stopping\n");
          } else prometheus.getMetricsRequestHandler(req, res);
        },
        () => {
          // Only when the SDK's modules cannot load (a broken install): nothing about the process is sent.
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          res.end("metrics are not available\n");
        },
      );
    };
  }
}
