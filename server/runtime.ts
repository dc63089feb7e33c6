import type { ServiceImpl } from "@connectrpc/connect";
import { hostname } from "node:os";
import type { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import type { LimitService } from "../gen/fastworker/v1/limit_service_pb.js";
import type { ScheduleService } from "../gen/fastworker/v1/schedule_service_pb.js";
import type { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import type { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import type { Logger } from "../common/logger.js";
import { tracerProviderRegistered } from "../common/tracing-attributes.js";
import { DashboardFeeds } from "./dashboard/dashboard-feeds.js";
import type { EngineConfig } from "./engine/config.js";
import { ControlPlane } from "./engine/control-plane.js";
import { restoreState, type RestoreSummary } from "./engine/recovery.js";
import { LeaseReaper } from "./loops/lease-reaper.js";
import { TimeoutEnforcer } from "./loops/timeout-enforcer.js";
import { Pinger } from "./loops/pinger.js";
import { ResultSweeper } from "./loops/result-sweeper.js";
import { Supervisor } from "./loops/supervisor.js";
import { ScheduleTicker } from "./schedules/schedule-ticker.js";
import { adminService } from "./services/admin-service.js";
import { limitService } from "./services/limit-service.js";
import { scheduleService } from "./services/schedule-service.js";
import { taskService } from "./services/task-service.js";
import { workerService } from "./services/worker-service.js";
import type { OpenedState } from "./store/open-state.js";
import type { AuditLog } from "./telemetry/audit-log.js";
import { ServerMetrics } from "./telemetry/server-metrics.js";
import type { HttpRoute } from "./transport/http-server.js";

/** Options for {@link startRuntime}. */
export interface RuntimeOptions {
  config: EngineConfig;
  /** Serve Prometheus metrics (and OTLP as OTEL_METRICS_EXPORTER says). */
  metrics: boolean;
  /** Where the workers' security-relevant events are logged. */
  audit: AuditLog;
  logger: Logger;
}

/**
 * A control plane at work on its state: the engine, its loops (under one
 * supervisor), the dashboard feeds, metrics, and the service
 * implementations the ports serve. The ports and beacons are not here
 * (server.ts owns them): in a group of control planes, a standby has ports
 * but no runtime until it takes the lead.
 */
export interface Runtime {
  readonly plane: ControlPlane;
  readonly services: {
    tasks: ServiceImpl<typeof TaskService>;
    workers: ServiceImpl<typeof WorkerService>;
    admin: ServiceImpl<typeof AdminService>;
    schedules: ServiceImpl<typeof ScheduleService>;
    limits: ServiceImpl<typeof LimitService>;
  };
  /** /metrics, when metrics are on. */
  readonly metricsRoute: HttpRoute | undefined;
  /** Where the state is kept ("lmdb at …", "postgresql at …", "in memory"). */
  readonly state: string;
  /** What was recovered at start (undefined in memory). */
  readonly restored: RestoreSummary | undefined;
  /** Refuses new submissions and stops dispatching; results of running attempts are still taken. */
  quiesce(): void;
  /** Ends every worker's dispatch stream and every dashboard stream (before the ports close). */
  closeStreams(): void;
  /** Stops the loops and metrics, writes what is pending and closes the state. */
  stop(): Promise<void>;
}

/** Starts a runtime on an opened state (recovering what it holds). */
export async function startRuntime(state: OpenedState, options: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = options;
  const plane = new ControlPlane(config, state.store);
  const restored = state.recovered === undefined ? undefined : restoreState(plane, state.recovered, { host: hostname(), pid: process.pid }, Date.now());
  const supervisor = new Supervisor()
    .add("dispatcher", plane.dispatcher)
    .add("scheduler", plane.scheduler)
    .add("limit-wakeups", plane.limits.wakeups)
    .add("pinger", new Pinger(plane.workers, config.heartbeatIntervalMs, logger))
    .add("lease-reaper", new LeaseReaper(plane, config, logger))
    .add("timeout-enforcer", new TimeoutEnforcer(plane, config, logger))
    .add("result-sweeper", new ResultSweeper(plane.store, logger));
  const ticker = new ScheduleTicker({ plane, logger });
  supervisor.add("schedule-ticker", ticker);
  const feeds = new DashboardFeeds(plane, logger);
  supervisor.add("dashboard-feeds", feeds);
  // Tracing is on when the process registered an OpenTelemetry SDK (fw-server does when OTEL_* asks);
  // only then are the API and the span code loaded.
  if (tracerProviderRegistered()) {
    const [{ activeTracer }, { QueueWaitSpans }] = await Promise.all([import("../common/tracing.js"), import("./telemetry/queue-wait-spans.js")]);
    const tracer = activeTracer();
    if (tracer !== undefined) supervisor.add("queue-wait-spans", new QueueWaitSpans(plane.events, tracer));
  }
  const metrics = options.metrics ? await ServerMetrics.create({ plane }) : undefined;
  supervisor.start();
  metrics?.start();
  let stopping: Promise<void> | undefined;
  return {
    plane,
    services: {
      tasks: taskService(plane),
      workers: workerService(plane, options.audit),
      admin: adminService(plane, feeds),
      schedules: scheduleService(plane, ticker),
      limits: limitService(plane),
    },
    metricsRoute: metrics?.route(),
    state: state.store.description,
    restored,
    quiesce() {
      plane.stopAccepting();
      plane.dispatcher.stop();
    },
    closeStreams() {
      plane.closeStreams();
      feeds.closeStreams();
    },
    stop: () =>
      (stopping ??= (async () => {
        plane.stopAccepting();
        supervisor.stop();
        await metrics?.shutdown();
        await state.close();
      })()),
  };
}
