import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import { join } from "node:path";
import { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import { LimitService } from "../gen/fastworker/v1/limit_service_pb.js";
import { ScheduleService } from "../gen/fastworker/v1/schedule_service_pb.js";
import { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import { silentLogger, type Logger } from "../common/logger.js";
import { DEFAULT_BEACON_PORT, validateClusterName } from "../common/discovery/beacon.js";
import { notServingMessage, standbyMessage } from "../common/discovery/leader-hint.js";
import { PACKAGE_ROOT, VERSION } from "../common/version.js";
import { BeaconSender } from "./discovery/beacon-sender.js";
import { ProbeResponder } from "./discovery/probe-responder.js";
import { engineConfig, type EngineConfig } from "./engine/config.js";
import type { ControlPlane } from "./engine/control-plane.js";
import type { RestoreSummary } from "./engine/recovery.js";
import type { GroupMembership } from "./ha/group.js";
import type { LeaderInfo } from "./ha/leadership.js";
import { RuntimeGate } from "./runtime-gate.js";
import { startRuntime, type Runtime } from "./runtime.js";
import { HOT_QUEUED_DEFAULT, openState, type OpenedState } from "./store/open-state.js";
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
  /**
   * With a data directory: past this many queued tasks in memory, new ones
   * wait on disk only (the cold tier), so a backlog far beyond memory fits
   * (default {@link HOT_QUEUED_DEFAULT}, the default --max-queued: the tier
   * is used only when --max-queued is raised past it). Ignored in memory and
   * on PostgreSQL, which keep every queued task in memory.
   */
  hotQueued?: number;
  /** Called once if the state cannot be written any more (default: logged at fatal; nothing more is acknowledged). */
  onStateFailure?: (err: Error) => void;
  /**
   * Keep the state in PostgreSQL (`postgres://user@host/db`) instead of a data
   * directory: several control planes on one database form a group with one
   * leader; the others stand by and take over when it goes.
   */
  store?: string | undefined;
  /** How often a standby tries to take the lead, and the leader checks its database session (default 500 ms). */
  leaderPollMs?: number;
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
export { HOT_QUEUED_DEFAULT };
export const DEFAULT_BEACON_INTERVAL_MS = 2000;

/** What a running control plane tells its owner. */
export interface ServerEventMap {
  /** It took the lead of its group (with `store`): it serves from now on. */
  leading: [state: string, restored: RestoreSummary | undefined];
  /** It lost the lead (its database session ended, or another took over): it refuses every call from now on. */
  deposed: [reason: string];
}

/** A running control plane. */
export interface RunningServer extends EventEmitter<ServerEventMap> {
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
  /** The engine; throws on a control plane that is not serving (a standby). */
  readonly plane: ControlPlane;
  readonly cluster: string;
  /** With `store`: whether it leads its group or stands by. */
  readonly role: "leader" | "standby" | undefined;
  /** Where the state is kept: "lmdb at /path", "postgresql at …", or "in memory". */
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
 * Starts a control plane: the gRPC port and the HTTP port (Connect +
 * dashboard), then its runtime on its state (in memory, recovered from its
 * data directory, or, with `store`, from PostgreSQL once it leads its group).
 * It runs no tasks itself: `fw-server --tasks` adds a Worker in the same
 * process (cli/fw-server.ts), which connects through the gRPC port like any
 * other worker.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger();
  const config = engineConfig(options);
  const host = options.host ?? "127.0.0.1";
  const cluster = validateClusterName(options.cluster ?? "default");
  if (options.store !== undefined && options.dataDir !== undefined) {
    throw new Error("--store and --data-dir both say where the state lives; pick one");
  }
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
  const tokens = [options.token, options.clientToken, options.workerToken, options.readToken].filter((t) => t !== undefined);
  // What to undo, newest first, if starting fails half-way (and on stop).
  const releasers: (() => unknown)[] = [() => audit.close()];
  const release = async (): Promise<void> => {
    for (const fn of releasers.reverse().splice(0)) await fn();
  };
  const events = new EventEmitter<ServerEventMap>();
  try {
    const gate = new RuntimeGate(notServingMessage("is starting (recovering its state); retry in a moment"));
    const services: ServiceBinding[] = [
      bind(TaskService, gate.service(TaskService, (r) => r.services.tasks)),
      bind(WorkerService, gate.service(WorkerService, (r) => r.services.workers)),
      bind(AdminService, gate.service(AdminService, (r) => r.services.admin)),
      bind(ScheduleService, gate.service(ScheduleService, (r) => r.services.schedules)),
      bind(LimitService, gate.service(LimitService, (r) => r.services.limits)),
    ];
    // A batch of tasks can hold several maximal payloads.
    const maxReceiveBytes = Math.max(16 * 1024 * 1024, config.maxPayloadBytes * 4);
    const grpc = await startGrpcServer({ host, port: options.port ?? 50051, services, access, tls, maxReceiveBytes, logger });
    grpc.setServing(false);
    releasers.push(() => grpc.stop(1000));
    const metricsRoute = options.metrics === false ? undefined : gate.route((r) => r.metricsRoute);
    const http = await startHttpServer({
      host,
      port: options.httpPort ?? 8000,
      services,
      access,
      tls,
      hosts: new HostAllowlist({ bound: host, extra: options.allowedHosts }),
      corsOrigins,
      maxReceiveBytes,
      fallback: followLeader(staticFiles(options.dashboardDir ?? join(PACKAGE_ROOT, "dashboard", "dist")), () => (gate.current === undefined ? leader : undefined)),
      routes: metricsRoute === undefined ? options.routes : { "/metrics": metricsRoute, ...options.routes },
      logger,
    });
    releasers.push(() => http.stop(1000));
    // Streams end first, so the ports close at once instead of waiting out their grace.
    releasers.push(() => gate.current?.closeStreams());
    const grpcAddress = `${tls ? "grpcs://" : ""}${hostPort(host, grpc.port)}`;
    const httpUrl = `${tls ? "https" : "http"}://${hostPort(host, http.port)}`;

    let beacons: BeaconSender | undefined;
    let probes: ProbeResponder | undefined;
    if (options.discovery !== false) {
      beacons = new BeaconSender({
        cluster,
        tokens,
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
      const sender = beacons;
      probes = new ProbeResponder({ cluster, tokens, port: options.discovery?.port ?? DEFAULT_BEACON_PORT, announce: () => sender.announceNow(), logger });
      releasers.push(() => {
        probes?.stop();
        beacons?.stop();
      });
    }

    const onFailure = options.onStateFailure ?? ((err: Error) => logger.fatal({ err }, "the control plane's state cannot be written: nothing more is acknowledged"));
    const runtimeOptions = { config, metrics: options.metrics !== false, audit, logger };
    /** Serves a runtime on this state: health SERVING, and beacons (only a serving control plane announces itself). */
    const serve = async (state: OpenedState): Promise<Runtime> => {
      const runtime = await startRuntime(state, runtimeOptions);
      releasers.push(() => runtime.stop());
      // Runs before the runtime stops (releasers run newest first): calls are refused and streams end
      // while the state is still open, so what their ending changes (a draining worker's session
      // removed, unacknowledged assignments re-queued) is written, not sent to a closed log.
      releasers.push(() => {
        gate.close(notServingMessage("is shutting down; retry in a moment (it, or another one, will)"));
        runtime.closeStreams();
      });
      gate.open(runtime);
      grpc.setServing(true);
      beacons?.start();
      probes?.start();
      return runtime;
    };
    let role: "leader" | "standby" | undefined;
    let leader: LeaderInfo | undefined;
    if (options.store === undefined) {
      const state = await openState({ dataDir: options.dataDir, hotQueued: options.hotQueued ?? HOT_QUEUED_DEFAULT, resultTtlMs: config.resultTtlMs, maxResults: config.maxResults, keyTtlMs: config.keyTtlMs, onFailure });
      releasers.push(() => state.close());
      await serve(state);
    } else {
      // Registered before joining, so it runs after the runtime's own stop (releasers run newest first):
      // the state's last writes go through the group's session before it ends.
      let group: GroupMembership | undefined;
      releasers.push(() => group?.stop());
      // Loaded only for a group: node-postgres costs ~15 MiB of RSS a control plane on its own disk does not need.
      const { joinGroup } = await import("./ha/group.js");
      group = await joinGroup({
        url: options.store,
        self: { id: randomUUID(), grpc: grpcAddress, http: httpUrl },
        logger,
        pollMs: options.leaderPollMs,
        onLead: async (log) => {
          const state = await openState({ dataDir: undefined, log, resultTtlMs: config.resultTtlMs, maxResults: config.maxResults, keyTtlMs: config.keyTtlMs, onFailure });
          const runtime = await serve(state);
          role = "leader";
          events.emit("leading", log.description, runtime.restored);
        },
        onStandby: (current) => {
          leader = current;
          gate.close(standbyMessage(current));
          role = "standby";
        },
        onLost: (reason) => {
          // Fenced: stop acknowledging at once; a supervisor restarts this process as a standby.
          gate.current?.quiesce();
          gate.close(notServingMessage(`lost the lead (${reason}); its group's leader serves now`));
          grpc.setServing(false);
          probes?.stop();
          beacons?.stop();
          events.emit("deposed", reason);
        },
      });
    }

    const quiesce = (): void => {
      probes?.stop();
      beacons?.stop(); // workers looking now should not find a control plane that is going away
      grpc.setServing(false);
      gate.current?.quiesce();
    };
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        quiesce();
        await release();
      })());
    // Getters stay getters (Object.assign would copy their values once).
    return Object.defineProperties(events, Object.getOwnPropertyDescriptors({
      grpcAddress,
      grpcPort: grpc.port,
      httpUrl,
      tls: tls !== undefined,
      warnings,
      cluster,
      get role() {
        return role;
      },
      get plane(): ControlPlane {
        const runtime = gate.current;
        if (runtime === undefined) throw new Error("this control plane is not serving (a standby, or deposed): it has no engine");
        return runtime.plane;
      },
      get state() {
        return gate.current?.state ?? (options.store === undefined ? "in memory" : "postgresql (standby)");
      },
      get restored() {
        return gate.current?.restored;
      },
      quiesce,
      drain: (timeoutMs: number) => (gate.current === undefined ? Promise.resolve(0) : drainRunning(gate.current.plane, timeoutMs)),
      stop,
      [Symbol.asyncDispose]: stop,
    })) as RunningServer;
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * The dashboard of a standby sends people to the leader's: a page load (GET
 * of a page, not an API call) is redirected there while another control
 * plane of the group leads.
 */
function followLeader(pages: HttpRoute, leader: () => LeaderInfo | undefined): HttpRoute {
  return (req, res) => {
    const current = leader();
    if (current === undefined || req.method !== "GET" || current.http === "") return pages(req, res);
    res.writeHead(307, { location: new URL(req.url ?? "/", current.http).toString(), "cache-control": "no-store" }).end();
  };
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
