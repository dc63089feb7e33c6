import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import { RetryPolicySchema, TaskState, TaskView } from "../gen/fastworker/v1/task_pb.js";
import { TaskService, type SubmitBatchResult, type TaskOutcome } from "../gen/fastworker/v1/task_service_pb.js";
import { priorityFromName, type PriorityName } from "../common/priority.js";
import { taskStateFromName, type TaskStateName } from "../common/task-state.js";
import { stringifyJson } from "../common/json.js";
import { durationFromMs } from "../common/time.js";
import { discoverControlPlane, type DiscoverOptions, type Discovery } from "../common/discovery/discover.js";
import type { RetryOptions } from "../worker/task.js";
import { GrpcConnection, type ServiceClient } from "./grpc-client.js";
import { OutcomeWaiter } from "./outcome-waiter.js";
import { addTraced, inFirstSubmissionContext } from "./producer-span.js";
import { DEFAULT_BATCH_LIMITS, SubmitBatcher, type BatchLimits } from "./submit-batcher.js";
import { TaskFailedError } from "./task-failed-error.js";
import { errorInfo, statsInfo, taskInfo, workerInfo, type StatsInfo, type TaskInfo, type WorkerInfo } from "./task-info.js";
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
  /** host:port of the control plane's gRPC port (default: FW_SERVER, else 127.0.0.1:50051). */
  server?: string;
  /** The control plane's --token (default: FW_TOKEN). */
  token?: string;
  /** How submit() calls are batched on the wire. */
  batching?: Partial<BatchLimits>;
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

/** Filters for {@link Client.listTasks}. */
export interface ListOptions {
  state?: TaskStateName | TaskStateName[];
  task?: string;
  priority?: PriorityName;
  idPrefix?: string;
  limit?: number;
  pageToken?: string;
  /** Include args, results and attempts (default false). */
  full?: boolean;
}

/** A submitted task: its id now, its result later. */
export class TaskHandle<R = unknown> {
  constructor(
    readonly id: string,
    /** True when an idempotency key matched an earlier submission. */
    readonly deduplicated: boolean,
    private readonly client: Client,
  ) {}

  /** The handler's return value; throws TaskFailedError if the task failed or was cancelled. */
  result(options?: WaitOptions): Promise<R> {
    return this.client.result<R>(this.id, options);
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
 * act on them. submit() calls are batched into SubmitBatch calls and results
 * are awaited over one WaitTasks stream, so a million submissions do not
 * mean a million RPCs. Errors are ConnectErrors with gRPC codes, or
 * TaskFailedError for tasks that failed.
 */
export class Client {
  readonly server: string;
  #discovery: Discovery | undefined;
  private readonly connection: GrpcConnection;
  private readonly tasks: ServiceClient<typeof TaskService>;
  private readonly admin: ServiceClient<typeof AdminService>;
  private readonly batcher: SubmitBatcher;
  private readonly waiter: OutcomeWaiter;

  constructor(options: ClientOptions = {}) {
    this.server = options.server ?? defaultServer();
    this.connection = new GrpcConnection({ address: this.server, token: options.token ?? process.env.FW_TOKEN });
    this.tasks = this.connection.service(TaskService);
    this.admin = this.connection.service(AdminService);
    this.batcher = new SubmitBatcher(
      async (requests) => (await inFirstSubmissionContext(requests, () => this.tasks.submitBatch({ tasks: requests }))).results,
      { ...DEFAULT_BATCH_LIMITS, ...options.batching },
    );
    this.waiter = new OutcomeWaiter(() => this.tasks);
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
    const token = options.token ?? process.env.FW_TOKEN;
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
  async submit(task: string | TaskRef, args: unknown, options: SubmitOptions = {}): Promise<TaskHandle<unknown>> {
    const name = typeof task === "string" ? task : task.name;
    const argsJson = stringifyJson(args, "the args");
    const result: SubmitBatchResult = await addTraced(
      this.batcher,
      {
        task: name,
        argsJson,
        priority: options.priority ? priorityFromName(options.priority) : 0,
        idempotencyKey: options.key ?? "",
        delay: options.delayMs ? durationFromMs(options.delayMs) : undefined,
        timeout: options.timeoutMs ? durationFromMs(options.timeoutMs) : undefined,
        retry: options.retry
          ? create(RetryPolicySchema, {
              maxAttempts: options.retry.maxAttempts ?? 0,
              initialBackoff: options.retry.initialBackoffMs !== undefined ? durationFromMs(options.retry.initialBackoffMs) : undefined,
              maxBackoff: options.retry.maxBackoffMs !== undefined ? durationFromMs(options.retry.maxBackoffMs) : undefined,
              multiplier: options.retry.multiplier ?? 0,
            })
          : undefined,
        metadata: options.metadata ?? {},
      },
      argsJson.length,
    );
    if (result.error !== undefined) {
      throw new ConnectError(result.error.message.replace(/^task \d+: /, ""), result.error.code as Code);
    }
    return new TaskHandle(result.id, result.deduplicated, this);
  }

  /** Submits and waits for the result. */
  run<A, R>(task: TaskRef<A, R>, args: A, options?: SubmitOptions & WaitOptions): Promise<R>;
  run(task: string, args?: unknown, options?: SubmitOptions & WaitOptions): Promise<unknown>;
  async run(task: string | TaskRef, args: unknown, options: SubmitOptions & WaitOptions = {}): Promise<unknown> {
    const handle = await this.submit(task as string, args, options);
    return await handle.result(options);
  }

  /** Waits for a task's result; throws TaskFailedError if it failed or was cancelled. */
  async result<R = unknown>(id: string, options: WaitOptions = {}): Promise<R> {
    const outcome = await this.outcome(id, options);
    if (outcome.state === TaskState.SUCCEEDED) return JSON.parse(outcome.resultJson || "null") as R;
    const error = outcome.error ? errorInfo(outcome.error) : { message: "no reason recorded", type: "", retryable: false };
    throw new TaskFailedError(id, outcome.state === TaskState.CANCELLED ? "cancelled" : "failed", error);
  }

  /** The task's current state (poll). */
  async getTask(id: string): Promise<TaskInfo> {
    const { task } = await this.tasks.getTask({ id });
    return taskInfo(task!);
  }

  /** Waits until the task is final, or `timeoutMs` passes, and answers its state either way. */
  async waitTask(id: string, options: WaitOptions = {}): Promise<TaskInfo> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const { task } = await this.tasks.waitTask({ id, timeout: Number.isFinite(left) ? durationFromMs(Math.max(1, left)) : undefined });
      const info = taskInfo(task!);
      if (["succeeded", "failed", "cancelled"].includes(info.state) || Date.now() >= deadline) return info;
    }
  }

  /** Cancels a queued, scheduled or running task. */
  async cancel(id: string, reason = ""): Promise<TaskInfo> {
    const { task } = await this.tasks.cancelTask({ id, reason });
    return taskInfo(task!);
  }

  /** Runs a failed or cancelled task again. */
  async retry(id: string): Promise<TaskInfo> {
    const { task } = await this.tasks.retryTask({ id });
    return taskInfo(task!);
  }

  /** Tasks, newest first. */
  async listTasks(options: ListOptions = {}): Promise<{ tasks: TaskInfo[]; nextPageToken?: string; total: number }> {
    const states = options.state === undefined ? [] : (Array.isArray(options.state) ? options.state : [options.state]).map(taskStateFromName);
    const response = await this.tasks.listTasks({
      states,
      task: options.task ?? "",
      priority: options.priority ? priorityFromName(options.priority) : 0,
      idPrefix: options.idPrefix ?? "",
      pageSize: options.limit ?? 0,
      pageToken: options.pageToken ?? "",
      view: options.full ? TaskView.FULL : TaskView.BASIC,
    });
    return {
      tasks: response.tasks.map(taskInfo),
      ...(response.nextPageToken ? { nextPageToken: response.nextPageToken } : {}),
      total: response.totalSize,
    };
  }

  async workers(): Promise<WorkerInfo[]> {
    return (await this.admin.listWorkers({})).workers.map(workerInfo);
  }

  async stats(): Promise<StatsInfo> {
    return statsInfo((await this.admin.getStats({})).stats!);
  }

  /** Closes the connection; pending waits fail with CANCELED. */
  async close(): Promise<void> {
    this.waiter.close();
    this.connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private outcome(id: string, options: WaitOptions): Promise<TaskOutcome> {
    const waiting = this.waiter.wait(id);
    if (options.timeoutMs === undefined) return waiting;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter.forget(id);
        reject(new ConnectError(`task ${id} did not finish within ${options.timeoutMs! / 1000}s (it goes on)`, Code.DeadlineExceeded));
      }, options.timeoutMs);
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
