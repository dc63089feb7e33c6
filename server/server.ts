import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import { silentLogger, type Logger } from "../common/logger.js";
import { DEFAULT_BEACON_PORT, validateClusterName } from "../common/discovery/beacon.js";
import { activeTracer } from "../common/tracing.js";
import { PACKAGE_ROOT, VERSION } from "../common/version.js";
import { BeaconSender } from "./discovery/beacon-sender.js";
import { engineConfig, type EngineConfig } from "./engine/config.js";
import { ControlPlane } from "./engine/control-plane.js";
import { DashboardFeeds } from "./dashboard/dashboard-feeds.js";
import { LeaseReaper } from "./loops/lease-reaper.js";
import { ServerMetrics } from "./telemetry/server-metrics.js";
import { QueueWaitSpans } from "./telemetry/queue-wait-spans.js";
import { Pinger } from "./loops/pinger.js";
import { ResultSweeper } from "./loops/result-sweeper.js";
import { adminService } from "./services/admin-service.js";
import { taskService } from "./services/task-service.js";
import { workerService } from "./services/worker-service.js";
import { Supervisor } from "./loops/supervisor.js";
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
  /** Cluster name, carried by beacons (default "default"). */
  cluster?: string;
  /** UDP beacons announcing this control plane (on by default); false turns them off. */
  discovery?: false | BeaconOptions;
  /** Where the built dashboard is (default: the package's dashboard/dist). */
  dashboardDir?: string;
  /** Extra HTTP routes (e.g. /metrics). */
  routes?: Readonly<Record<string, HttpRoute>>;
  /** Serve Prometheus metrics on /metrics and push them where OTEL_METRICS_EXPORTER says (default true). */
  metrics?: boolean;
  logger?: Logger;
}

/** Where and how often the control plane announces itself; each has an fw-server flag. */
export interface BeaconOptions {
  /** UDP port (--beacon-port, default 50051). */
  port?: number;
  /** Addresses to send to (--beacon-addr); default: 127.255.255.255 on loopback, else the bound subnet's broadcast. */
  targets?: readonly string[];
  /** Milliseconds between beacons (--beacon-interval in seconds, default 2 s). */
  intervalMs?: number;
}

/** The default --beacon-interval. */
export const DEFAULT_BEACON_INTERVAL_MS = 2000;

/** A running control plane. */
export interface RunningServer {
  /** host:port of the gRPC port, with the port actually bound. */
  readonly grpcAddress: string;
  /** The gRPC port actually bound. */
  readonly grpcPort: number;
  /** http://host:port of the HTTP port, with the port actually bound. */
  readonly httpUrl: string;
  readonly plane: ControlPlane;
  readonly cluster: string;
  /** Stops announcing itself (beacons); the ports stay open. Part of stop(), and the first step of a graceful shutdown. */
  stopAnnouncing(): void;
  /** Stops announcing, closes both ports and stops the loops. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a control plane: the task engine and its loops, the gRPC port and
 * the HTTP port (Connect + dashboard). It runs no tasks itself: `fw-server
 * --tasks` adds a Worker in the same process (cli/fw-server.ts), which
 * connects through the gRPC port like any other worker.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger();
  const config = engineConfig(options);
  const host = options.host ?? "127.0.0.1";
  const cluster = validateClusterName(options.cluster ?? "default");

  const plane = new ControlPlane(config);
  const supervisor = new Supervisor()
    .add("dispatcher", plane.dispatcher)
    .add("scheduler", plane.scheduler)
    .add("pinger", new Pinger(plane.workers, config.heartbeatIntervalMs, logger))
    .add("lease-reaper", new LeaseReaper(plane, config, logger))
    .add("result-sweeper", new ResultSweeper(plane.store, logger));
  const feeds = new DashboardFeeds(plane, logger);
  supervisor.add("dashboard-feeds", feeds);
  // Tracing is on when the process registered an OpenTelemetry SDK (fw-server does when OTEL_* asks).
  const tracer = activeTracer();
  if (tracer !== undefined) supervisor.add("queue-wait-spans", new QueueWaitSpans(plane.events, tracer));
  const metrics = options.metrics === false ? undefined : await ServerMetrics.create({ plane });

  const services: ServiceBinding[] = [
    bind(TaskService, taskService(plane)),
    bind(WorkerService, workerService(plane, logger)),
    bind(AdminService, adminService(plane, feeds)),
  ];
  // A batch of tasks can hold several maximal payloads.
  const maxReceiveBytes = Math.max(16 * 1024 * 1024, config.maxPayloadBytes * 4);

  supervisor.start();
  metrics?.start();
  let grpc;
  try {
    grpc = await startGrpcServer({ host, port: options.port ?? 50051, services, token: options.token, maxReceiveBytes, logger });
  } catch (err) {
    supervisor.stop();
    await metrics?.shutdown();
    throw err;
  }
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
      logger,
    });
  } catch (err) {
    await grpc.stop(0);
    supervisor.stop();
    await metrics?.shutdown();
    throw err;
  }
  const grpcAddress = hostPort(host, grpc.port);
  const httpUrl = `http://${hostPort(host, http.port)}`;

  let beacons: BeaconSender | undefined;
  if (options.discovery !== false) {
    try {
      beacons = new BeaconSender({
        cluster,
        token: options.token,
        version: VERSION,
        host: isIP(host) ? host : (await lookup(host, { family: 4 })).address,
        grpcPort: grpc.port,
        httpPort: http.port,
        port: options.discovery?.port ?? DEFAULT_BEACON_PORT,
        targets: options.discovery?.targets ?? [],
        intervalMs: options.discovery?.intervalMs ?? DEFAULT_BEACON_INTERVAL_MS,
        logger,
      });
    } catch (err) {
      await Promise.all([grpc.stop(0), http.stop(0)]);
      supervisor.stop();
      await metrics?.shutdown();
      throw err;
    }
    // Last to start, first to stop: nothing is announced that is not listening.
    supervisor.add("beacon-sender", beacons);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      beacons?.stop(); // workers looking now should not find a control plane that is going away
      plane.closeStreams();
      feeds.closeStreams();
      await Promise.all([grpc.stop(1000), http.stop(1000)]);
      supervisor.stop();
      await metrics?.shutdown();
    })());

  const stopAnnouncing = (): void => beacons?.stop();
  return { grpcAddress, grpcPort: grpc.port, httpUrl, plane, cluster, stopAnnouncing, stop, [Symbol.asyncDispose]: stop };
}
