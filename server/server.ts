import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { hostname } from "node:os";
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
import { restoreState, type RestoreSummary } from "./engine/recovery.js";
import { openState } from "./store/open-state.js";
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
import { AccessControl } from "./transport/access-control.js";
import { Credentials } from "./transport/credentials.js";
import { HostAllowlist } from "./transport/host-allowlist.js";
import { validateCorsOrigin } from "./transport/http-guards.js";
import { checkExposure, isLoopbackHost } from "./transport/protected-mode.js";
import { checkTls, type ServerTls } from "./transport/tls.js";
import { AuditLog } from "./telemetry/audit-log.js";

/** Options for {@link startServer}; each has an fw-server flag of the same name. */
export interface ServerOptions extends Partial<EngineConfig> {
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** gRPC port (default 50051; 0 = any free port). */
  port?: number;
  /** Dashboard + Connect port (default 8000; 0 = any free port). */
  httpPort?: number;
  /**
   * The all-powerful token (--token): any RPC, worker or client, and reads.
   * With any token set, every call must carry one (see docs/security.md);
   * each is at least 16 characters.
   */
  token?: string | undefined;
  /** --client-token: submit, cancel, retry and read; cannot be a worker. */
  clientToken?: string | undefined;
  /** --worker-token: RegisterWorker, Dispatch and ReportResults only. */
  workerToken?: string | undefined;
  /** --read-token: reads only (tasks, stats, workers, live feeds, /metrics). */
  readToken?: string | undefined;
  /** Serve TLS on both ports (--tls-cert, --tls-key; --tls-client-ca requires client certificates). */
  tls?: ServerTls | undefined;
  /** Host header names the HTTP port answers to besides localhost, loopback and the bound address (--allowed-host). */
  allowedHosts?: readonly string[];
  /** Origins that may call the HTTP port from another site's pages (--cors-origin); default none. */
  corsOrigins?: readonly string[];
  /** Start bound off loopback without any token (--insecure); refused otherwise (protected mode). */
  insecure?: boolean;
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
  /**
   * Keep the state in this directory (created if missing; one control plane
   * per directory): it survives restarts and crashes. Undefined: in memory
   * only. fw-server defaults to `.fastworker/<cluster>`.
   */
  dataDir?: string | undefined;
  /** Called once if the state cannot be written any more (default: logged at fatal; nothing more is acknowledged). */
  onStateFailure?: (err: Error) => void;
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
  /** What clients dial: host:port of the gRPC port (the port actually bound), as grpcs://host:port with TLS. */
  readonly grpcAddress: string;
  /** The gRPC port actually bound. */
  readonly grpcPort: number;
  /** http://host:port (https:// with TLS) of the HTTP port, with the port actually bound. */
  readonly httpUrl: string;
  /** Whether both ports serve TLS. */
  readonly tls: boolean;
  /** Warnings about how it is exposed (protected mode, unusable scopes), also logged at start. */
  readonly warnings: readonly string[];
  readonly plane: ControlPlane;
  readonly cluster: string;
  /** Where the state is kept: "lmdb at /path", or "in memory". */
  readonly state: string;
  /** What was recovered from the data directory at start (undefined in memory). */
  readonly restored: RestoreSummary | undefined;
  /**
   * The first step of a graceful shutdown: stops announcing itself, says
   * NOT_SERVING on health, refuses new submissions (UNAVAILABLE) and stops
   * dispatching; results of running attempts are still taken.
   */
  quiesce(): void;
  /** Waits until no attempt is running, or `timeoutMs` passed; resolves with how many still run. */
  drain(timeoutMs: number): Promise<number>;
  /** Quiesces, writes what is pending, closes both ports and the state, stops the loops. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a control plane: the state (in memory, or recovered from its data
 * directory), the task engine and its loops, the gRPC port and the HTTP port
 * (Connect + dashboard). It runs no tasks itself: `fw-server --tasks` adds a
 * Worker in the same process (cli/fw-server.ts), which connects through the
 * gRPC port like any other worker.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger();
  const config = engineConfig(options);
  const host = options.host ?? "127.0.0.1";
  const cluster = validateClusterName(options.cluster ?? "default");
  // Credentials, TLS and exposure are checked before anything is opened or bound.
  const credentials = new Credentials({ token: options.token, clientToken: options.clientToken, workerToken: options.workerToken, readToken: options.readToken });
  const tls = options.tls === undefined ? undefined : checkTls(options.tls);
  const corsOrigins = (options.corsOrigins ?? []).map(validateCorsOrigin);
  const exposure = checkExposure({ host, loopback: await isLoopbackHost(host), credentials: credentials.enabled, tls: tls !== undefined, insecure: options.insecure === true });
  if (exposure.refuse !== undefined) throw new Error(exposure.refuse);
  const warnings = [...exposure.warnings, ...scopeWarnings(credentials)];
  for (const warning of warnings) logger.warn(warning);
  const audit = new AuditLog(logger);
  const access = new AccessControl(credentials, audit);
  // What to undo, newest first, if starting fails half-way (and on stop).
  const releasers: (() => unknown)[] = [() => audit.close()];
  const release = async (): Promise<void> => {
    for (const fn of releasers.reverse().splice(0)) await fn();
  };
  try {
    const onFailure = options.onStateFailure ?? ((err: Error) => logger.fatal({ err }, "the control plane's state cannot be written: nothing more is acknowledged"));
    const state = await openState({ dataDir: options.dataDir, resultTtlMs: config.resultTtlMs, maxResults: config.maxResults, onFailure });
    releasers.push(() => state.close());
    const plane = new ControlPlane(config, state.store);
    const restored =
      state.recovered === undefined ? undefined : restoreState(plane, state.recovered, { host: hostname(), pid: process.pid }, Date.now());

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
      bind(WorkerService, workerService(plane, audit)),
      bind(AdminService, adminService(plane, feeds)),
    ];
    // A batch of tasks can hold several maximal payloads.
    const maxReceiveBytes = Math.max(16 * 1024 * 1024, config.maxPayloadBytes * 4);

    supervisor.start();
    releasers.push(() => supervisor.stop());
    if (metrics !== undefined) {
      metrics.start();
      releasers.push(() => metrics.shutdown());
    }
    const grpc = await startGrpcServer({ host, port: options.port ?? 50051, services, access, tls, maxReceiveBytes, logger });
    releasers.push(() => grpc.stop(1000));
    const http = await startHttpServer({
      host,
      port: options.httpPort ?? 8000,
      services,
      access,
      tls,
      hosts: new HostAllowlist({ bound: host, extra: options.allowedHosts }),
      corsOrigins,
      maxReceiveBytes,
      fallback: staticFiles(options.dashboardDir ?? join(PACKAGE_ROOT, "dashboard", "dist")),
      routes: metrics === undefined ? options.routes : { "/metrics": metrics.route(), ...options.routes },
      logger,
    });
    releasers.push(() => http.stop(1000));
    // Streams end first, so the ports close at once instead of waiting out their grace.
    releasers.push(() => {
      plane.closeStreams();
      feeds.closeStreams();
    });
    const grpcAddress = `${tls ? "grpcs://" : ""}${hostPort(host, grpc.port)}`;
    const httpUrl = `${tls ? "https" : "http"}://${hostPort(host, http.port)}`;

    let beacons: BeaconSender | undefined;
    if (options.discovery !== false) {
      beacons = new BeaconSender({
        cluster,
        tokens: [options.token, options.clientToken, options.workerToken, options.readToken].filter((t) => t !== undefined),
        tls: tls !== undefined,
        version: VERSION,
        host: isIP(host) ? host : (await lookup(host, { family: 4 })).address,
        grpcPort: grpc.port,
        httpPort: http.port,
        port: options.discovery?.port ?? DEFAULT_BEACON_PORT,
        targets: options.discovery?.targets ?? [],
        intervalMs: options.discovery?.intervalMs ?? DEFAULT_BEACON_INTERVAL_MS,
        logger,
      });
      // Last to start, first to stop: nothing is announced that is not listening.
      supervisor.add("beacon-sender", beacons);
      releasers.push(() => beacons?.stop());
    }

    const quiesce = (): void => {
      beacons?.stop(); // workers looking now should not find a control plane that is going away
      grpc.setServing(false);
      plane.stopAccepting();
      plane.dispatcher.stop();
    };
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        quiesce();
        await release();
      })());
    return {
      grpcAddress,
      grpcPort: grpc.port,
      httpUrl,
      tls: tls !== undefined,
      warnings,
      plane,
      cluster,
      state: state.store.description,
      restored,
      quiesce,
      drain: (timeoutMs) => drainRunning(plane, timeoutMs),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Warnings about scopes nobody can use (a credential set is configured, but none grants them). */
function scopeWarnings(credentials: Credentials): string[] {
  if (!credentials.enabled) return [];
  const missing: string[] = [];
  if (credentials.granting("worker").length === 0) missing.push("no worker can register (add --worker-token or --token)");
  if (credentials.granting("client").length === 0) missing.push("nobody can submit tasks (add --client-token or --token)");
  return missing.map((m) => `no credential grants it: ${m}`);
}

/** Waits until no attempt is running, or `timeoutMs` passed; resolves with how many still run. */
async function drainRunning(plane: ControlPlane, timeoutMs: number): Promise<number> {
  const running = (): number => plane.store.counts().running;
  if (running() === 0) return 0;
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (running() > 0) return;
      done();
    };
    const done = (): void => {
      clearTimeout(timer);
      plane.events.off("task.finished", check).off("task.retrying", check).off("attempt.lost", check);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    plane.events.on("task.finished", check).on("task.retrying", check).on("attempt.lost", check);
  });
  return running();
}
