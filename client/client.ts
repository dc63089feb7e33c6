import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import { TaskState, TaskView } from "../gen/fastworker/v1/task_pb.js";
import { TaskService, type SubmitRequestSchema, type TaskOutcome } from "../gen/fastworker/v1/task_service_pb.js";
import { LimitService } from "../gen/fastworker/v1/limit_service_pb.js";
import { ScheduleService } from "../gen/fastworker/v1/schedule_service_pb.js";
import { flowLimitMessage, type LimitOptions } from "../common/limit-options.js";
import { scheduleSpecMessage, type ScheduleOptions } from "../common/schedule-options.js";
import { limitInfo, scheduleInfo, type LimitInfo, type ScheduleInfo } from "./schedule-info.js";
import { priorityFromName, type PriorityName } from "../common/priority.js";
import { stringifyJson } from "../common/json.js";
import { durationFromMs, timestampFromMs, timestampToMs } from "../common/time.js";
import { isFinalState, taskStateName } from "../common/task-state.js";
import { discoverControlPlane, type DiscoverOptions, type Discovery } from "../common/discovery/discover.js";
import { retryPolicyMessage, type RetryOptions } from "../common/task-options.js";
import { parseServers } from "../common/discovery/server-locator.js";
import type { TlsClientOptions } from "../common/transport/grpc-client.js";
import { tlsFromEnv, tokenFromEnv } from "./client-env.js";
import { ClientConnections } from "./connections.js";
import { submitTraced } from "./producer-span.js";
import { ClientSession, DEFAULT_SESSION_LIMITS, type FollowedOutcome, type SessionLimits, type Submitted } from "./session.js";
import { TaskFailedError } from "./task-failed-error.js";
import { errorInfo, statsInfo, taskInfo, taskNameInfo, workerInfo, type StatsInfo, type TaskInfo, type TaskLogsInfo, type TaskNameInfo, type WorkerInfo } from "./task-info.js";
import { bulkSelectionMessage, taskFilterMessage, taskOrderFromName, type BulkOptions, type BulkResult, type TaskFilterOptions, type TaskOrderName } from "./task-filter.js";
import type { TaskRef } from "./task-ref.js";

/**
 * The address `new Client()` uses when none is given: FW_SERVER, else
 * 127.0.0.1:50051. The constructor never listens for beacons; use
 * {@link Client.discover} to find the control plane on the network.
 */
export function defaultServer(): string {
  return process.env.FW_SERVER || "127.0.0.1:50051";
}

/** Options for {@link Client}. */
export interface ClientOptions {
  /**
   * The control plane's gRPC address: host:port, or grpcs://host:port for TLS
   * (default: FW_SERVER, else 127.0.0.1:50051); for a group of control
   * planes, several separated by commas ("a:50051,b:50051"): the client
   * follows the leader.
   */
  server?: string;
  /** The control plane's --client-token, --read-token or --token (default: FW_TOKEN, else the file FW_TOKEN_FILE names). */
  token?: string;
  /** Certificates for a control plane serving TLS (default: the CA file FW_TLS_CA names, if set). */
  tls?: TlsClientOptions;
  /**
   * Push each submitted task's outcome to this client as soon as it is final,
   * so `result()` answers without asking (default true). Turn it off for
   * producers that never read results: the control plane then sends nothing back.
   */
  followResults?: boolean;
  /** Limits of the session stream (message size, submissions awaiting acceptance, idle close). */
  session?: Partial<SessionLimits>;
}

/** Options for {@link Client.discover}: the client's, plus how to find the control plane. */
export interface ClientDiscoverOptions extends ClientOptions, Omit<DiscoverOptions, "token"> {
  /** Give up after this long (default 6 s, three default beacon intervals; FW_DISCOVERY_TIMEOUT in seconds). */
  timeoutMs?: number;
}

/** Default wait for a beacon in Client.discover and the fw CLI: three default beacon intervals. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 6000;

/** Per-submission options. */
export interface SubmitOptions {
  priority?: PriorityName;
  /** Idempotency key: a second submission with the same key returns the first task's id. */
  key?: string;
  /** Run no sooner than this long from now. */
  delayMs?: number;
  /** Run no sooner than this time (a past time: now). Not with delayMs. */
  runAt?: Date | number;
  /** Overrides the task definition's timeout per attempt. */
  timeoutMs?: number;
  /** Overrides the task definition's retry policy. */
  retry?: RetryOptions;
  /** Carried to the worker (ctx.metadata). */
  metadata?: Record<string, string>;
}

/** Options for waiting on a result. */
export interface WaitOptions {
  /** Give up after this long (the task itself goes on); default: wait as long as it takes. */
  timeoutMs?: number;
}

/** Filters, order and page for {@link Client.listTasks}. */
export interface ListOptions extends TaskFilterOptions {
  /** "newest" (default), "oldest", or "next-to-run" (waiting tasks in the order they will run). */
  order?: TaskOrderName;
  /** At most this many (default 50, at most 1000). */
  limit?: number;
  /** A previous answer's nextPageToken or previousPageToken (same order and filters). */
  pageToken?: string;
  /** The last page instead of the first (as many tasks as the last page of `limit` from the start holds). */
  lastPage?: boolean;
  /** Include args, results and attempts (default false). */
  full?: boolean;
}

/** One page of tasks. */
export interface TaskPageInfo {
  tasks: TaskInfo[];
  /** The page after this one; absent on the last page. */
  nextPageToken?: string;
  /** The page before this one; absent on the first. */
  previousPageToken?: string;
  /** Tasks matching the filters in all. */
  total: number;
}

/** A submitted task: its id now, its result later. */
export class TaskHandle<R = unknown> {
  /** Made by Client.submit; not for applications to call (its parameters may change). */
  constructor(
    readonly id: string,
    /** True when an idempotency key matched an earlier submission. */
    readonly deduplicated: boolean,
    private readonly client: Client,
    /** The outcome the control plane pushes, when the submission was followed. */
    private pushed?: FollowedOutcome,
  ) {}

  /** The handler's return value; throws TaskFailedError if the task failed or was cancelled. */
  result(options?: WaitOptions): Promise<R> {
    // The pushed outcome answers the first call. A failure or cancel that arrived before
    // anyone asked may have been retried since (fw retry), so then ask afresh; a success is final.
    let pushed = this.pushed;
    this.pushed = undefined;
    const arrived = pushed?.outcome;
    if (arrived !== undefined && arrived.state !== TaskState.SUCCEEDED) pushed = undefined;
    return this.client.result<R>(this.id, options, pushed?.wait());
  }

  /** The task's current state. */
  status(): Promise<TaskInfo> {
    return this.client.getTask(this.id);
  }

  cancel(reason?: string): Promise<TaskInfo> {
    return this.client.cancel(this.id, reason);
  }
}

/**
 * The application's handle on a control plane: submit tasks, follow them,
 * act on them. Submissions and their outcomes travel on one Session stream,
 * batched per turn of the event loop, so a million submissions do not mean a
 * million RPCs, and a result is pushed the moment it is final. Errors are ConnectErrors with gRPC codes, or
 * TaskFailedError for tasks that failed.
 */
export class Client {
  readonly server: string;
  #discovery: Discovery | undefined;
  private readonly connections: ClientConnections;
  private readonly session: ClientSession;
  private readonly followResults: boolean;

  constructor(options: ClientOptions = {}) {
    this.server = options.server ?? defaultServer();
    this.connections = new ClientConnections(parseServers(this.server), { token: options.token ?? tokenFromEnv(), tls: options.tls ?? tlsFromEnv() });
    let sessionAddress = this.connections.address;
    this.session = new ClientSession(
      () => {
        sessionAddress = this.connections.address;
        return this.connections.service(TaskService);
      },
      { ...DEFAULT_SESSION_LIMITS, ...options.session },
      (err) => this.connections.failed(sessionAddress, err),
    );
    this.followResults = options.followResults ?? true;
  }

  /**
   * A client for the control plane of a cluster, found by its UDP beacon
   * (see DiscoverOptions). An explicit address wins, as with --server:
   * `server`, else FW_SERVER, means no discovery. Cluster, port, token and
   * timeout default to FW_CLUSTER, FW_BEACON_PORT, FW_TOKEN and
   * FW_DISCOVERY_TIMEOUT (seconds). Fails with UNAVAILABLE, naming the port
   * listened on and what to check, when nothing is found in time.
   */
  static async discover(options: ClientDiscoverOptions = {}): Promise<Client> {
    const server = options.server ?? (process.env.FW_SERVER || undefined);
    const token = options.token ?? tokenFromEnv();
    if (server !== undefined) return new Client({ ...options, server, token });
    const envPort = Number(process.env.FW_BEACON_PORT);
    const envTimeout = Number(process.env.FW_DISCOVERY_TIMEOUT);
    const discovery = await discoverControlPlane({
      ...options,
      cluster: options.cluster ?? (process.env.FW_CLUSTER || undefined),
      port: options.port ?? (process.env.FW_BEACON_PORT && Number.isInteger(envPort) ? envPort : undefined),
      timeoutMs: options.timeoutMs ?? (process.env.FW_DISCOVERY_TIMEOUT && envTimeout >= 0 ? envTimeout * 1000 : DEFAULT_DISCOVERY_TIMEOUT_MS),
      token,
    });
    const client = new Client({ ...options, server: discovery.address, token });
    client.#discovery = discovery;
    return client;
  }

  /** How this client's control plane was found, when it was found by beacon (describeDiscovery() makes it a line). */
  get discovery(): Discovery | undefined {
    return this.#discovery;
  }

  /**
   * Submits a task by name, typed handle or definition; resolves with its
   * handle as soon as the control plane accepted it.
   */
  submit<A, R>(task: TaskRef<A, R>, args: A, options?: SubmitOptions): Promise<TaskHandle<R>>;
  submit(task: string, args?: unknown, options?: SubmitOptions): Promise<TaskHandle<unknown>>;
  // Not async, and no closure per call: this is every producer's hot path. An async submit and
  // result(), a handle that watched its outcome with then(), and an outcome promise made up front
  // for every followed submission (now FollowedOutcome, made on demand) left 2.9 KB of garbage
  // per submitted-and-awaited task in the client; this leaves about 1.5 KB (1.4–1.7), and the
  // producer's CPU per task fell from 13.3 to 10.3 µs (bench/experiments/producer-garbage.mjs).
  submit(task: string | TaskRef, args: unknown, options: SubmitOptions = NO_OPTIONS): Promise<TaskHandle<unknown>> {
    let request: SubmitInit;
    try {
      request = {
        task: typeof task === "string" ? task : task.name,
        argsJson: stringifyJson(args, "the args"),
        priority: options.priority ? priorityFromName(options.priority) : 0,
        idempotencyKey: options.key ?? "",
        delay: options.delayMs ? durationFromMs(options.delayMs) : undefined,
        runAt: options.runAt === undefined ? undefined : timestampFromMs(Math.max(1, +options.runAt)),
        timeout: options.timeoutMs ? durationFromMs(options.timeoutMs) : undefined,
        retry: options.retry ? retryPolicyMessage(options.retry) : undefined,
        metadata: options.metadata,
      };
    } catch (err) {
      return Promise.reject(err);
    }
    return submitTraced(this.session, request, request.argsJson!.length, this.followResults).then(this.handleOf);
  }

  /** A submission's handle, once accepted. */
  private readonly handleOf = ({ accepted, outcome }: Submitted): TaskHandle => new TaskHandle(accepted.id, accepted.deduplicated, this, outcome);

  /** Submits and waits for the result. */
  run<A, R>(task: TaskRef<A, R>, args: A, options?: SubmitOptions & WaitOptions): Promise<R>;
  run(task: string, args?: unknown, options?: SubmitOptions & WaitOptions): Promise<unknown>;
  async run(task: string | TaskRef, args: unknown, options: SubmitOptions & WaitOptions = {}): Promise<unknown> {
    const handle = await this.submit(task as string, args, options);
    return await handle.result(options);
  }

  /**
   * Waits for a task's result; throws TaskFailedError if it failed or was
   * cancelled. (`pushed`: the outcome already on its way for a followed submission.)
   */
  result<R = unknown>(id: string, options: WaitOptions = NO_OPTIONS, pushed?: Promise<TaskOutcome>): Promise<R> {
    try {
      return this.outcome(id, options, pushed).then(resultOf<R>);
    } catch (err) {
      return Promise.reject(err); // a rejection, as from an async function (e.g. an id that is not a string)
    }
  }

  /** The task's current state (poll). */
  async getTask(id: string): Promise<TaskInfo> {
    const { task } = await this.connections.call((s) => s(TaskService).getTask({ id }));
    return taskInfo(task!);
  }

  /** Waits until the task is final, or `timeoutMs` passes, and answers its state either way. */
  async waitTask(id: string, options: WaitOptions = {}): Promise<TaskInfo> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const timeout = Number.isFinite(left) ? durationFromMs(Math.max(1, left)) : undefined;
      const { task } = await this.connections.call((s) => s(TaskService).waitTask({ id, timeout }));
      const info = taskInfo(task!);
      if (["succeeded", "failed", "cancelled"].includes(info.state) || Date.now() >= deadline) return info;
    }
  }

  /** Cancels a queued, scheduled or running task. */
  async cancel(id: string, reason = ""): Promise<TaskInfo> {
    const { task } = await this.connections.call((s) => s(TaskService).cancelTask({ id, reason }));
    return taskInfo(task!);
  }

  /** Runs a failed or cancelled task again. */
  async retry(id: string): Promise<TaskInfo> {
    const { task } = await this.connections.call((s) => s(TaskService).retryTask({ id }));
    return taskInfo(task!);
  }

  /**
   * Cancels every queued, scheduled or running task a filter (or `ids`)
   * selects. Without `expectedCount` it only counts them (a dry run); call
   * again with that count to act, which happens only if as many are
   * selected then (else FAILED_PRECONDITION and nothing is done).
   */
  async cancelMany(options: BulkOptions, reason = ""): Promise<BulkResult> {
    const r = await this.connections.call((s) => s(TaskService).cancelTasks({ selection: bulkSelectionMessage(options), reason }));
    return { matched: Number(r.matched), done: Number(r.done), skipped: Number(r.skipped), dryRun: options.expectedCount === undefined };
  }

  /** Runs every failed or cancelled task a filter (or `ids`) selects again; the same dry run and confirmation as {@link cancelMany}. */
  async retryMany(options: BulkOptions): Promise<BulkResult> {
    const r = await this.connections.call((s) => s(TaskService).retryTasks({ selection: bulkSelectionMessage(options) }));
    return { matched: Number(r.matched), done: Number(r.done), skipped: Number(r.skipped), dryRun: options.expectedCount === undefined };
  }

  /** Queues a scheduled task (delayed, or waiting to retry) now instead of at its time. */
  async runNow(id: string): Promise<TaskInfo> {
    const { task } = await this.connections.call((s) => s(TaskService).runTaskNow({ id }));
    return taskInfo(task!);
  }

  /**
   * The lines a task's handlers wrote with ctx.log(), after the first
   * `after` (0: all); pass `nextAfter` next time to read only newer ones.
   * `final` says no more will come.
   */
  async logs(id: string, after = 0): Promise<TaskLogsInfo> {
    const r = await this.connections.call((s) => s(TaskService).getTaskLogs({ id, after }));
    const state = taskStateName(r.state);
    return {
      lines: r.lines.map((l) => ({ time: new Date(timestampToMs(l.time)), attempt: l.attempt, text: l.text })),
      nextAfter: r.nextAfter,
      dropped: r.dropped,
      state,
      final: isFinalState(r.state),
    };
  }

  /** A page of tasks: newest first unless `order` says otherwise, filtered. */
  async listTasks(options: ListOptions = {}): Promise<TaskPageInfo> {
    const response = await this.connections.call((s) => s(TaskService).listTasks({
      filter: taskFilterMessage(options),
      order: taskOrderFromName(options.order),
      pageSize: options.limit ?? 0,
      pageToken: options.pageToken ?? "",
      lastPage: options.lastPage ?? false,
      view: options.full ? TaskView.FULL : TaskView.BASIC,
    }));
    return {
      tasks: response.tasks.map(taskInfo),
      ...(response.nextPageToken ? { nextPageToken: response.nextPageToken } : {}),
      ...(response.previousPageToken ? { previousPageToken: response.previousPageToken } : {}),
      total: response.totalSize,
    };
  }

  async workers(): Promise<WorkerInfo[]> {
    return (await this.connections.call((s) => s(AdminService).listWorkers({}))).workers.map(workerInfo);
  }

  async stats(): Promise<StatsInfo> {
    return statsInfo((await this.connections.call((s) => s(AdminService).getStats({}))).stats!);
  }

  /**
   * Every task name with its tasks per state, the connected workers serving
   * it, whether it is paused and its recent run times; the most queued first.
   */
  async taskNames(limit = 0): Promise<{ names: TaskNameInfo[]; total: number }> {
    const response = await this.connections.call((s) => s(AdminService).listTaskNames({ limit }));
    return { names: response.names.map(taskNameInfo), total: response.totalNames };
  }

  /** Stops dispatching a task name's tasks (they still queue) until {@link resumeTaskName}; kept across restarts. */
  async pauseTaskName(task: string): Promise<TaskNameInfo> {
    return taskNameInfo((await this.connections.call((s) => s(AdminService).pauseTaskName({ task }))).name!);
  }

  /** Dispatches a paused task name's tasks again, in their order. */
  async resumeTaskName(task: string): Promise<TaskNameInfo> {
    return taskNameInfo((await this.connections.call((s) => s(AdminService).resumeTaskName({ task }))).name!);
  }

  /**
   * Creates a schedule at run time (ALREADY_EXISTS when the id is taken):
   * `createSchedule({ id: "nightly", task: "report", cron: "0 3 * * *", tz: "Europe/Paris" })`.
   */
  async createSchedule(options: ScheduleOptions & { id: string; task: string; paused?: boolean }): Promise<ScheduleInfo> {
    const { schedule } = await this.connections.call((s) => s(ScheduleService).createSchedule({ schedule: scheduleSpecMessage(options, options.task), paused: options.paused ?? false }));
    return scheduleInfo(schedule!);
  }

  /** Every schedule (declared in task modules or created at run time), by id. */
  async listSchedules(): Promise<ScheduleInfo[]> {
    return (await this.connections.call((s) => s(ScheduleService).listSchedules({}))).schedules.map(scheduleInfo);
  }

  async getSchedule(id: string): Promise<ScheduleInfo> {
    return scheduleInfo((await this.connections.call((s) => s(ScheduleService).getSchedule({ id }))).schedule!);
  }

  /** Stops a schedule's ticks until resumed (ticks in between are skipped). */
  async pauseSchedule(id: string): Promise<ScheduleInfo> {
    return scheduleInfo((await this.connections.call((s) => s(ScheduleService).pauseSchedule({ id }))).schedule!);
  }

  async resumeSchedule(id: string): Promise<ScheduleInfo> {
    return scheduleInfo((await this.connections.call((s) => s(ScheduleService).resumeSchedule({ id }))).schedule!);
  }

  /** Deletes a schedule (a declared one comes back when a worker declaring it registers again). */
  async deleteSchedule(id: string): Promise<void> {
    await this.connections.call((s) => s(ScheduleService).deleteSchedule({ id }));
  }

  /** Submits a schedule's task now, outside its ticks; resolves with the task's id. */
  async triggerSchedule(id: string): Promise<string> {
    return (await this.connections.call((s) => s(ScheduleService).triggerSchedule({ id }))).taskId;
  }

  /** Flow limits and their use: every limited task name, or one. */
  async listLimits(task?: string): Promise<LimitInfo[]> {
    return (await this.connections.call((s) => s(LimitService).listLimits({ task: task ?? "" }))).limits.map(limitInfo);
  }

  /**
   * Overrides a task name's flow limits at run time, field by field (`null`
   * removes a declared limit; absent fields keep it). Stored by the control plane.
   */
  async setLimit(task: string, limit: LimitOptions): Promise<LimitInfo> {
    const message = flowLimitMessage(limit, `the limit of "${task}"`);
    return limitInfo((await this.connections.call((s) => s(LimitService).setLimit({ task, limit: message }))).limit!);
  }

  /** Drops a task name's override: its declared limits apply again. */
  async clearLimit(task: string): Promise<LimitInfo> {
    return limitInfo((await this.connections.call((s) => s(LimitService).clearLimit({ task }))).limit!);
  }

  /** Closes the connection; pending waits fail with CANCELED. */
  async close(): Promise<void> {
    this.session.close();
    this.connections.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private outcome(id: string, options: WaitOptions | null, pushed: Promise<TaskOutcome> | undefined): Promise<TaskOutcome> {
    const timeoutMs = options?.timeoutMs; // read before following: nothing may throw once a follow is made
    const waiting = pushed ?? this.session.follow(id);
    if (timeoutMs === undefined) return waiting;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A pushed outcome stays on its way (another result() call may want it); an explicit follow is dropped.
        if (pushed === undefined) this.session.unfollow(id);
        reject(new ConnectError(`task ${id} did not finish within ${timeoutMs / 1000}s (it goes on)`, Code.DeadlineExceeded));
      }, timeoutMs);
      waiting.then(
        (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;

const NO_OPTIONS: SubmitOptions & WaitOptions = Object.freeze({});

/** The handler's return value in a final outcome; TaskFailedError for a failure or cancel. */
function resultOf<R>(outcome: TaskOutcome): R {
  if (outcome.state === TaskState.SUCCEEDED) return JSON.parse(outcome.resultJson || "null") as R;
  const error = outcome.error ? errorInfo(outcome.error) : { message: "no reason recorded", type: "", retryable: false };
  throw new TaskFailedError(outcome.id, outcome.state === TaskState.CANCELLED ? "cancelled" : "failed", error);
}
