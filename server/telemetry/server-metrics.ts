import type { IncomingMessage, ServerResponse } from "node:http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, type IMetricReader } from "@opentelemetry/sdk-metrics";
import { INSTRUMENTATION_SCOPE } from "../../common/tracing.js";
import { VERSION } from "../../common/version.js";
import type { ControlPlane } from "../engine/control-plane.js";
import type { HttpRoute } from "../transport/http-server.js";
import { metricReadersFromEnv } from "./readers-from-env.js";
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
 */
export class ServerMetrics {
  private constructor(
    private readonly provider: MeterProvider,
    private readonly prometheus: PrometheusExporter,
    private readonly taskMetrics: TaskMetrics,
  ) {}

  /** Builds the provider and its readers; call start() to begin counting. */
  static async create(options: ServerMetricsOptions): Promise<ServerMetrics> {
    const taskMetrics = new TaskMetrics(options.plane.events);
    const prometheus = new PrometheusExporter({ preventServerStart: true, metricProducers: [taskMetrics], withoutScopeInfo: true });
    const pushReaders = options.readers ?? (await metricReadersFromEnv([taskMetrics]));
    const resource = defaultResource()
      .merge(resourceFromAttributes({ "service.name": options.serviceName ?? "fw-server" }))
      .merge(detectResources({ detectors: [envDetector] }));
    const provider = new MeterProvider({ resource, readers: [prometheus, ...pushReaders] });
    observeControlPlane(provider.getMeter(INSTRUMENTATION_SCOPE, VERSION), options.plane);
    observeLimits(provider.getMeter(INSTRUMENTATION_SCOPE, VERSION), options.plane);
    return new ServerMetrics(provider, prometheus, taskMetrics);
  }

  start(): void {
    this.taskMetrics.start();
  }

  /** Stops counting and flushes the push exporters one last time. */
  async shutdown(): Promise<void> {
    this.taskMetrics.stop();
    await this.provider.shutdown();
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
      this.prometheus.getMetricsRequestHandler(req, res);
    };
  }
}
