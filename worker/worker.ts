import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { DispatchResponse, TaskDefinition as TaskDefinitionMessage } from "../gen/fastworker/v1/worker_service_pb.js";
import { TaskDefinitionSchema } from "../gen/fastworker/v1/worker_service_pb.js";
import { silentLogger, type Logger } from "../common/logger.js";
import { priorityFromName } from "../common/priority.js";
import { durationFromMs } from "../common/time.js";
import { retryPolicyMessage } from "../common/task-options.js";
import { flowLimitMessage } from "../common/limit-options.js";
import { scheduleSpecMessage } from "../common/schedule-options.js";
import { VERSION } from "../common/version.js";
import type { DiscoveryOptions } from "../common/discovery/discover.js";
import { WorkerConnection } from "./connection.js";
import { traceHandlers } from "./consumer-span.js";
import { Executor } from "./executor.js";
import { Reporter } from "./reporter.js";
import { BeaconLocator, parseServers, ServerList } from "../common/discovery/server-locator.js";
import type { TlsClientOptions } from "../common/transport/grpc-client.js";
import { parseServerAddress } from "../common/transport/address.js";
import { validateToken } from "../common/transport/auth.js";
import { schedulesOf, type TaskDefinition } from "./task.js";

/** Options for {@link Worker}. */
export interface WorkerOptions {
  /**
   * host:port of the control plane's gRPC port, or several (a group of
   * control planes: "a:50051,b:50051", or an array; the worker follows the
   * leader); without it the worker finds the control plane by UDP beacon.
   */
  server?: string | readonly string[] | undefined;
  /** How to find the control plane when `server` is not given (the token is the worker's). */
  discovery?: DiscoveryOptions;
  /** The control plane's --worker-token (or --token); at least 16 characters. */
  token?: string | undefined;
  /** Certificates for a control plane serving TLS (a grpcs:// `server`, or a beacon announcing TLS). */
  tls?: TlsClientOptions | undefined;
  /** The tasks this worker serves. */
  tasks: ReadonlyMap<string, TaskDefinition> | readonly TaskDefinition[];
  /** Tasks run at once (default 16). */
  concurrency?: number;
  /** Shown in listings (default host-pid). */
  name?: string;
  /** How long stop() lets running tasks finish before handing them back (default 30 s). */
  drainTimeoutMs?: number;
  /** How long a handler may ignore its aborted signal before its slot is written off (default 5 s). */
  abortGraceMs?: number;
  logger?: Logger;
}

/** Events a Worker emits. */
export interface WorkerEventMap {
  /** Registered and streaming under this session id. */
  attached: [session: string];
  /** Finished draining and disconnected. */
  stopped: [];
  /** The worker gave up: no control plane was found within discovery.timeoutMs. It has stopped connecting. */
  error: [err: ConnectError];
}

/**
 * A worker: connects to the control plane, runs the tasks it is assigned,
 * and reports their outcomes. `fw-worker` and the control plane's embedded
 * worker (`fw-server --tasks`) are both this class.
 */
export class Worker extends EventEmitter<WorkerEventMap> {
  readonly name: string;
  private readonly tasks: ReadonlyMap<string, TaskDefinition>;
  private readonly executor: Executor;
  private readonly reporter: Reporter;
  private readonly connection: WorkerConnection;
  private readonly logger: Logger;
  private readonly stopController = new AbortController();
  private runLoop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly drainTimeoutMs: number;

  constructor(options: WorkerOptions) {
    super();
    const tasks = options.tasks instanceof Map ? options.tasks : new Map([...(options.tasks as readonly TaskDefinition[])].map((t) => [t.name, t]));
    if (tasks.size === 0) throw new Error("a worker needs at least one task");
    this.tasks = tasks;
    const concurrency = options.concurrency ?? 16;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`concurrency must be a whole number ≥ 1 (got ${concurrency})`);
    this.name = options.name ?? `${hostname()}-${process.pid}`;
    // Fail here, not at the first connect: a bad address or token is a setup mistake.
    if (options.server !== undefined) for (const address of parseServers(options.server)) parseServerAddress(address);
    if (options.token !== undefined) validateToken(options.token, "the token");
    this.logger = options.logger ?? silentLogger();
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.reporter = new Reporter(
      {
        send: (session, request) => this.connection.report(session, request),
        currentSession: () => (this.connection.attached ? this.connection.session : undefined),
        heartbeat: () => ({
          ping: this.connection.lastPing,
          capacity: this.executor.capacityFor(this.connection.session),
          running: this.executor.running.size,
          draining: this.executor.draining,
        }),
        sessionGone: (session) => this.connection.forget(session),
        sessionDone: (session) => this.connection.closeReports(session),
      },
      this.logger,
    );
    this.executor = new Executor({
      tasks: traceHandlers(tasks),
      concurrency,
      abortGraceMs: options.abortGraceMs ?? 5000,
      sink: this.reporter,
      logger: this.logger,
      maxResultBytes: () => this.connection.maxPayloadBytes,
    });
    this.connection = new WorkerConnection({
      server:
        options.server !== undefined
          ? new ServerList(parseServers(options.server))
          : new BeaconLocator({ ...options.discovery, token: options.token, logger: this.logger }),
      token: options.token,
      tls: options.tls,
      registration: {
        name: this.name,
        host: hostname(),
        pid: process.pid,
        concurrency,
        version: VERSION,
        tasks: [...tasks.values()].map(definitionMessage),
      },
      onMessage: (message, session) => this.onMessage(message, session),
      onAttached: (session) => {
        this.reporter.resume();
        this.emit("attached", session);
      },
      capacity: () => this.executor.capacityFor(this.connection.session),
      held: (session) => [...this.executor.heldBy(session), ...this.reporter.unreported(session)],
      logger: this.logger,
    });
  }

  /** The control plane's address it dialled last ("" before it found one). */
  get server(): string {
    return this.connection.address;
  }

  /** The task names served. */
  get taskNames(): string[] {
    return [...this.tasks.keys()];
  }

  /** Starts connecting (and reconnecting) in the background. */
  start(): this {
    this.runLoop ??= this.connection.run(this.stopController.signal).catch((err: unknown) => {
      this.emit("error", ConnectError.from(err));
    });
    return this;
  }

  /**
   * Drains: takes no new tasks, lets running ones finish for up to
   * drainTimeoutMs, hands back the rest, reports everything, disconnects.
   */
  stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.drainTimeoutMs ?? this.drainTimeoutMs);
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.executor.draining = true;
    this.reporter.heartbeatSoon();
    const running = this.executor.running.size;
    if (running > 0) this.logger.info(`draining: waiting up to ${timeoutMs / 1000}s for ${running} running tasks`);
    const deadline = new AbortController();
    await Promise.race([this.executor.idle(), sleep(timeoutMs, undefined, { signal: deadline.signal }).catch(() => undefined)]);
    deadline.abort();
    const released = this.executor.releaseAll();
    if (released > 0) this.logger.warn(`drain deadline passed: handed ${released} unfinished tasks back to the control plane`);
    const flushing = new AbortController();
    await Promise.race([this.reporter.flushed(), sleep(5000, undefined, { signal: flushing.signal }).catch(() => undefined)]);
    flushing.abort();
    this.reporter.stop();
    if (this.reporter.pending > 0) {
      this.logger.warn(`exiting with ${this.reporter.pending} reports undelivered (the control plane is unreachable); it will re-queue those tasks`);
    }
    this.stopController.abort();
    await this.runLoop;
    await this.connection.close();
    await this.executor.close();
    this.emit("stopped");
  }

  private onMessage(message: DispatchResponse, session: string): void {
    for (const assignment of message.assignments) this.executor.start(assignment, session);
    for (const cancel of message.cancels) this.executor.cancel(cancel.taskId, cancel.attempt, cancel.reason);
    if (message.ping > 0) this.reporter.heartbeatSoon();
  }
}

function definitionMessage(definition: TaskDefinition): TaskDefinitionMessage {
  const { priority, retry, timeoutMs } = definition.options;
  return create(TaskDefinitionSchema, {
    name: definition.name,
    priority: priority ? priorityFromName(priority) : 0,
    timeout: timeoutMs ? durationFromMs(timeoutMs) : undefined,
    retry: retry ? retryPolicyMessage(retry) : undefined,
    schedules: schedulesOf(definition.options).map((schedule) => scheduleSpecMessage(schedule, definition.name)),
    limit: flowLimitMessage(definition.options, `task("${definition.name}")`),
  });
}
