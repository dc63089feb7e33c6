import { join } from "node:path";
import { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import { silentLogger, type Logger } from "../common/logger.js";
import { activeTracer } from "../common/tracing.js";
import { PACKAGE_ROOT } from "../common/version.js";
import { loadTaskModules } from "../worker/loader.js";
import { Worker } from "../worker/worker.js";
import { engineConfig, type EngineConfig } from "./config.js";
import { ControlPlane } from "./control-plane.js";
import { LeaseReaper } from "./lease-reaper.js";
import { ServerMetrics } from "./metrics/server-metrics.js";
import { QueueWaitSpans } from "./queue-wait-spans.js";
import { Pinger } from "./pinger.js";
import { ResultSweeper } from "./result-sweeper.js";
import { adminService } from "./services/admin-service.js";
import { taskService } from "./services/task-service.js";
import { workerService } from "./services/worker-service.js";
import { Supervisor } from "./supervisor.js";
import { bind, hostPort, startGrpcServer, type ServiceBinding } from "./transport/grpc-server.js";
import { startHttpServer, type HttpRoute } from "./transport/http-server.js";
import { staticFiles } from "./transport/static-files.js";

/** Options for {@link startServer}; each has an fw-server flag of the same name. */
export interface ServerOptions extends Partial<EngineConfig> {
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** gRPC port (default 50051; 0 = any free port). */
  port?: number;
  /** Dashboard + Connect port (default 8000; 0 = any free port). */
  httpPort?: number;
  /** When set, every RPC on both ports must carry it. */
  token?: string | undefined;
  /** Task modules the control plane also runs itself (an embedded worker). */
  tasks?: readonly string[];
  /** The embedded worker's concurrency. */
  concurrency?: number;
  /** Cluster name (discovery). */
  cluster?: string;
  /** Where the built dashboard is (default: the package's dashboard/dist). */
  dashboardDir?: string;
  /** Extra HTTP routes (e.g. /metrics). */
  routes?: Readonly<Record<string, HttpRoute>>;
  /** Serve Prometheus metrics on /metrics and push them where OTEL_METRICS_EXPORTER says (default true). */
  metrics?: boolean;
  logger?: Logger;
}

/** A running control plane. */
export interface RunningServer {
  /** host:port of the gRPC port, with the port actually bound. */
  readonly grpcAddress: string;
  /** http://host:port of the HTTP port, with the port actually bound. */
  readonly httpUrl: string;
  readonly plane: ControlPlane;
  /** The embedded worker, when started with tasks. */
  readonly worker: Worker | undefined;
  readonly cluster: string;
  /** Drains the embedded worker, then closes both ports and stops the loops. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a control plane: the task engine and its loops, the gRPC port, the
 * HTTP port (Connect + dashboard), and with `tasks` an embedded worker that
 * runs them in this process through the same Worker runtime as fw-worker.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger();
  const config = engineConfig(options);
  const host = options.host ?? "127.0.0.1";
  const cluster = options.cluster ?? "default";
  // Load task modules first: a broken module should fail before anything listens.
  const tasks = options.tasks?.length ? await loadTaskModules(options.tasks) : undefined;

  const plane = new ControlPlane(config);
  const supervisor = new Supervisor()
    .add("dispatcher", plane.dispatcher)
    .add("scheduler", plane.scheduler)
    .add("pinger", new Pinger(plane.workers, config.heartbeatIntervalMs, logger))
    .add("lease-reaper", new LeaseReaper(plane, config, logger))
    .add("result-sweeper", new ResultSweeper(plane.store, logger));
  // Tracing is on when the process registered an OpenTelemetry SDK (fw-server does when OTEL_* asks).
  const tracer = activeTracer();
  if (tracer !== undefined) supervisor.add("queue-wait-spans", new QueueWaitSpans(plane.events, tracer));
  const metrics = options.metrics === false ? undefined : await ServerMetrics.create({ plane });

  const services: ServiceBinding[] = [
    bind(TaskService, taskService(plane)),
    bind(WorkerService, workerService(plane, logger)),
    bind(AdminService, adminService(plane)),
  ];
  // A batch of tasks can hold several maximal payloads.
  const maxReceiveBytes = Math.max(16 * 1024 * 1024, config.maxPayloadBytes * 4);

  supervisor.start();
  metrics?.start();
  const grpc = await startGrpcServer({ host, port: options.port ?? 50051, services, token: options.token, maxReceiveBytes, logger });
  let http;
  try {
    http = await startHttpServer({
      host,
      port: options.httpPort ?? 8000,
      services,
      token: options.token,
      maxReceiveBytes,
      fallback: staticFiles(options.dashboardDir ?? join(PACKAGE_ROOT, "dashboard", "dist")),
      routes: metrics === undefined ? options.routes : { "/metrics": metrics.route(options.token), ...options.routes },
    });
  } catch (err) {
    await grpc.stop(0);
    supervisor.stop();
    await metrics?.shutdown();
    throw err;
  }
  const grpcAddress = hostPort(host, grpc.port);
  const httpUrl = `http://${hostPort(host, http.port)}`;

  let worker: Worker | undefined;
  if (tasks !== undefined) {
    const local = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
    worker = new Worker({
      server: hostPort(local, grpc.port),
      token: options.token,
      tasks,
      concurrency: options.concurrency,
      name: `embedded-${process.pid}`,
      logger: logger.child({ component: "worker" }),
    }).start();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await worker?.stop();
      plane.closeStreams();
      await Promise.all([grpc.stop(1000), http.stop(1000)]);
      supervisor.stop();
      await metrics?.shutdown();
    })());

  return { grpcAddress, httpUrl, plane, worker, cluster, stop, [Symbol.asyncDispose]: stop };
}
