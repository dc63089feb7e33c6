import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { WorkerState } from "../../gen/fastworker/v1/admin_service_pb.js";
import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import {
  CancelSignalSchema,
  ReportResultsResponseSchema,
  type AttemptRef,
  type DispatchResponse,
  type ReportResultsRequest,
  type ReportResultsResponse,
  type RejectedItem,
  type TaskDefinition,
} from "../../gen/fastworker/v1/worker_service_pb.js";
import type { AsyncQueue } from "../../common/async-queue.js";
import { isFinalState, taskStateName } from "../../common/task-state.js";
import { Admission } from "./admission.js";
import { AttemptTracker } from "./attempts.js";
import type { EngineConfig } from "./config.js";
import { Definitions } from "./definitions.js";
import { Dispatcher } from "./dispatcher.js";
import { findDuplicate } from "./idempotency.js";
import { FlowLimits } from "./limits/flow-limits.js";
import { ScheduleRegistry } from "../schedules/schedule-registry.js";
import { ControlPlaneEvents } from "./events.js";
import { TaskLifecycle } from "./lifecycle.js";
import { NamePauses } from "./name-pauses.js";
import { RunTimes } from "./run-times.js";
import { Scheduler } from "../loops/scheduler.js";
import { StatsCounters } from "./stats.js";
import { TaskStore } from "../store/task-store.js";
import { TEXT_LIMITS, truncateText } from "./text-limits.js";
import { TaskRecord, type SubmitOptions } from "../store/task-record.js";
import { Waiters } from "./waiters.js";
import { WorkerRegistry } from "./worker-registry.js";
import { secretMatches } from "./session-secret.js";
import { workerRecord, type WorkerIdentity, type WorkerSession } from "./worker-session.js";

/** What a submission came to: a new task, or the earlier one its idempotency key names. */
export interface SubmitOutcome {
  id: string;
  state: TaskState;
  deduplicated: boolean;
  /** Undefined only for a duplicate whose task's record is gone (its key outlived its result). */
  task: TaskRecord | undefined;
}

/** What {@link ControlPlane.register} answers. */
export interface Registration {
  worker: WorkerSession;
  /** The session's secret: only the worker gets it; the control plane keeps its hash. */
  secret: string;
  /** Definitions this registration changed (nobody connected served them with the old one). */
  changed: DefinitionChange[];
}

/** A task definition a registration replaced, and how. */
export interface DefinitionChange {
  name: string;
  /** One phrase per field, e.g. "priority high, not normal". */
  differences: string[];
}

function checkSecret(worker: WorkerSession, secret: string): WorkerSession {
  if (secretMatches(worker.secretHash, secret)) return worker;
  throw new ConnectError(
    `worker session ${JSON.stringify(worker.id)}: ${secret ? "wrong" : "missing"} session secret. Only the process that registered ` +
      "a session may use it (RegisterWorkerResponse.session_secret); a worker older than this control plane does not send it: upgrade it",
    Code.PermissionDenied,
  );
}

/**
 * What one report stream has proved: the session it presented a right
 * secret for, and that secret. A later report on the same stream presenting
 * the same pair is not hashed again (SHA-256 of every report was 7% of
 * fw-server's CPU in idle round trips, ~16 µs each). The plain comparison
 * only ever meets a secret this stream itself presented correctly, so it
 * tells a caller nothing it did not know.
 */
export interface SecretProof {
  worker?: WorkerSession;
  secret?: string;
}

/** A submission that passed validation. */
export interface SubmitInput {
  name: string;
  argsJson: string;
  /** UNSPECIFIED = the task definition's default. */
  priority: Priority;
  delayMs: number;
  options: SubmitOptions;
}

/**
 * The task engine: the one place that owns task and worker state. RPC
 * services translate requests into calls here; the loops (dispatcher,
 * scheduler, pinger, lease reaper, result sweeper) act on it. It is
 * single-threaded by design: every method runs to completion on the event
 * loop, so no locks and no partial states.
 */
export class ControlPlane {
  readonly store: TaskStore;
  readonly workers = new WorkerRegistry();
  readonly events = new ControlPlaneEvents();
  readonly stats = new StatsCounters();
  readonly definitions = new Definitions();
  readonly waiters = new Waiters();
  readonly dispatcher: Dispatcher;
  readonly scheduler: Scheduler;
  readonly lifecycle: TaskLifecycle;
  readonly attempts: AttemptTracker;
  readonly admission: Admission;
  /** Per-task-name concurrency and rate limits, enforced by parking lanes of the queues. */
  readonly limits: FlowLimits;
  /** Schedules (declared and made through the API); ScheduleTicker turns their ticks into tasks. */
  readonly schedules: ScheduleRegistry;
  /** Task names paused by PauseTaskName: queued, not dispatched. */
  readonly pauses: NamePauses;
  /** Recent run times per task name (ListTaskNames). */
  readonly runTimes = new RunTimes();
  private order = 0;
  private accepting = true;

  constructor(
    readonly config: EngineConfig,
    store?: TaskStore,
  ) {
    this.store = store ?? new TaskStore({ resultTtlMs: config.resultTtlMs, maxResults: config.maxResults, keyTtlMs: config.keyTtlMs });
    this.dispatcher = new Dispatcher({
      store: this.store,
      workers: this.workers,
      startAttempt: (task, worker, now) => this.attempts.start(task, worker, now),
    });
    this.scheduler = new Scheduler(this.store, (task) => this.lifecycle.queue(task));
    this.schedules = new ScheduleRegistry({
      store: this.store,
      maxPayloadBytes: config.maxPayloadBytes,
      changed: () => this.events.emit("schedule.changed"),
      conflict: (id, message) => this.events.emit("schedule.conflict", id, message),
    });
    this.limits = new FlowLimits({ store: this.store, wakeDispatcher: () => this.dispatcher.schedule(), running: (name) => this.runningTasks(name) });
    this.pauses = new NamePauses({ store: this.store, wakeDispatcher: () => this.dispatcher.schedule() });
    this.lifecycle = new TaskLifecycle(this);
    this.attempts = new AttemptTracker(this);
    this.admission = new Admission(config, this.store);
  }

  /**
   * Resolves once every change made so far is durable: await it before
   * acknowledging anything. Fails with UNAVAILABLE if the state cannot be
   * written (the control plane then acknowledges nothing more).
   */
  durable(): Promise<void> {
    return this.store.commit().catch((err: unknown) => {
      throw new ConnectError(`${err instanceof Error ? err.message : String(err)}; nothing more is acknowledged: retry against a healthy control plane`, Code.Unavailable);
    });
  }

  /** Refuses new submissions from now on (graceful shutdown): they get UNAVAILABLE. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Accepts a task; with an idempotency key this name already used with the
   * same args, answers the earlier task instead (ALREADY_EXISTS for other args).
   */
  submit(input: SubmitInput, now: number): SubmitOutcome {
    if (!this.accepting) {
      throw new ConnectError("the control plane is shutting down and takes no new tasks; retry in a moment (it, or another one, will)", Code.Unavailable);
    }
    const key = input.options.idempotencyKey;
    if (key) {
      const duplicate = findDuplicate(this.store, { name: input.name, argsJson: input.argsJson, key }, now);
      if (duplicate !== undefined) return { ...duplicate, deduplicated: true };
    }
    this.admission.admit(input.argsJson); // RESOURCE_EXHAUSTED when the backlog is full
    const priority = input.priority || this.definitions.defaultPriority(input.name);
    const task = new TaskRecord(this.store.ids, input.name, priority, input.argsJson, now, ++this.order, input.options);
    this.stats.submitted++;
    if (input.delayMs > 0) {
      this.store.insert(task, now + input.delayMs);
      this.scheduler.add(task, now);
    } else {
      this.store.insert(task);
      this.dispatcher.schedule();
    }
    this.events.emit("task.submitted", task);
    return { id: task.id, state: task.state, task, deduplicated: false };
  }

  /** A task by id, or NOT_FOUND. */
  get(id: string, now: number): TaskRecord {
    const task = this.store.get(id, now);
    if (task === undefined) {
      throw new ConnectError(
        `no task ${JSON.stringify(id)}: unknown id, or its result expired (kept ${this.config.resultTtlMs / 1000}s, at most ${this.config.maxResults} results)`,
        Code.NotFound,
      );
    }
    return task;
  }

  /** Cancels a queued, scheduled or running task. Cancelling a cancelled task is a no-op. */
  cancel(id: string, reason: string, now: number): TaskRecord {
    const task = this.get(id, now);
    if (task.state === TaskState.CANCELLED) return task;
    if (isFinalState(task.state)) {
      throw new ConnectError(`task ${id} already ${taskStateName(task.state)}; there is nothing to cancel`, Code.FailedPrecondition);
    }
    const wasRunning = task.state === TaskState.RUNNING;
    const error = { message: truncateText(reason, TEXT_LIMITS.cancelReason) || "cancelled by request", stack: "", type: "CancelledError", retryable: false };
    this.lifecycle.finish(task, TaskState.CANCELLED, now, { error });
    const attempt = task.currentAttempt;
    if (wasRunning && attempt !== undefined && attempt.isOpen) {
      const worker = this.workers.get(attempt.workerId);
      worker?.cancel(create(CancelSignalSchema, { taskId: id, attempt: attempt.number, reason: error.message }));
      worker?.flush();
    }
    return task;
  }

  /** Runs a FAILED or CANCELLED task again as a fresh series of attempts. */
  retry(id: string, now: number): TaskRecord {
    if (!this.accepting) throw new ConnectError("the control plane is shutting down; retry the task in a moment", Code.Unavailable);
    const task = this.get(id, now);
    if (task.state !== TaskState.FAILED && task.state !== TaskState.CANCELLED) {
      throw new ConnectError(
        `task ${id} is ${taskStateName(task.state)}; only failed or cancelled tasks can be retried`,
        Code.FailedPrecondition,
      );
    }
    this.admission.admit(task.argsJson);
    this.stats.retried++;
    this.store.restartSeries(task);
    this.dispatcher.schedule();
    this.events.emit("task.retried", task);
    return task;
  }

  /** Queues a SCHEDULED task (delayed, or waiting out a retry backoff) now instead of at its time. */
  runNow(id: string, now: number): TaskRecord {
    const task = this.get(id, now);
    if (task.state !== TaskState.SCHEDULED) {
      throw new ConnectError(
        `task ${id} is ${taskStateName(task.state)}; only a scheduled task (delayed, or waiting to retry) can be run now`,
        Code.FailedPrecondition,
      );
    }
    this.lifecycle.queue(task);
    this.events.emit("task.queued", task);
    return task;
  }

  /** A sentence on why a task is where it is. */
  statusMessage(task: TaskRecord, now: number): string {
    switch (task.state) {
      case TaskState.QUEUED:
        if (this.pauses.pausedAt(task.name) !== undefined) return `"${task.name}" is paused; it stays queued until resumed (fw resume ${task.name})`;
        return this.limits.blockedReason(task, now) ?? (this.workers.isServed(task.name)
          ? "waiting for a free worker slot"
          : `no connected worker serves "${task.name}"; it stays queued until one does`);
      case TaskState.SCHEDULED: {
        const inSeconds = Math.max(0, (task.scheduledFor - now) / 1000).toFixed(1);
        return task.failures > 0
          ? `attempt ${task.attempt} failed; retrying in ${inSeconds}s`
          : `delayed; queued in ${inSeconds}s`;
      }
      case TaskState.RUNNING: {
        const attempt = task.currentAttempt;
        return attempt ? `running on ${attempt.workerName} (attempt ${attempt.number})` : "running";
      }
      default:
        return task.error?.message ?? "";
    }
  }

  /**
   * Registers a worker and the task definitions it serves; answers the new
   * session, its secret (shown this once) and the definitions it changed.
   * A definition that differs from the current one of its name while a
   * connected worker serves that name is refused (FAILED_PRECONDITION,
   * naming the task, the fields and the workers): one registration cannot
   * change how another worker's tasks run. With nobody serving the name (the
   * old workers are gone, e.g. after a deploy), the new definition replaces it.
   */
  register(identity: WorkerIdentity, definitions: readonly TaskDefinition[], now: number): Registration {
    const conflicts: string[] = [];
    const changed: DefinitionChange[] = [];
    for (const definition of definitions) {
      const differences = this.definitions.differences(definition);
      if (differences === undefined || differences.length === 0) continue;
      const holders = [...this.workers.live()].filter((w) => w.names.includes(definition.name));
      if (holders.length === 0) {
        changed.push({ name: definition.name, differences });
        continue;
      }
      const named = holders.slice(0, 3).map((w) => `${JSON.stringify(w.name)} (${w.id})`).join(", ");
      const more = holders.length > 3 ? ` and ${holders.length - 3} more` : "";
      conflicts.push(`task ${JSON.stringify(definition.name)} here has ${differences.join(", ")} (the definition of connected worker ${named}${more})`);
    }
    if (conflicts.length > 0) {
      throw new ConnectError(
        `refused: this worker's task definitions differ from those of connected workers, and a registration may not change another worker's tasks: ${conflicts.join("; ")}. ` +
          "Make the definitions agree, or stop those workers first (this worker keeps retrying, so a deploy that changes a definition completes once the old workers are gone)",
        Code.FailedPrecondition,
      );
    }
    for (const name of this.definitions.declare(definitions)) this.store.saveRecord("definitions", name, this.definitions.record(name));
    this.limits.declare(definitions, now);
    this.schedules.declare(definitions, identity.name, now);
    const { session: worker, secret } = this.workers.register(identity, now);
    // Kept so that after a restart the worker's session (and its running attempts) are still known.
    this.store.saveRecord("workers", worker.id, workerRecord(worker));
    this.events.emit("worker.registered", worker);
    return { worker, secret, changed };
  }

  /** Tasks of a name running now, from the workers' open attempts. */
  private *runningTasks(name: string): Iterable<TaskRecord> {
    for (const worker of this.workers.live()) {
      for (const attempt of worker.inflight) {
        const task = attempt.task;
        if (task.name === name && task.state === TaskState.RUNNING && task.currentAttempt === attempt) yield task;
      }
    }
  }

  /** New tasks continue the creation order after `order` (tasks recovered from the log). */
  resumeOrder(order: number): void {
    this.order = Math.max(this.order, order);
  }

  /** A registered worker, or NOT_FOUND telling it to register again. */
  worker(id: string): WorkerSession {
    const worker = this.workers.get(id);
    if (worker === undefined) {
      throw new ConnectError(
        `worker session ${JSON.stringify(id)} is unknown (the control plane restarted, or it gave this worker up); register again`,
        Code.NotFound,
      );
    }
    return worker;
  }

  /**
   * A registered worker whose caller presented the session's secret:
   * NOT_FOUND (register again) for an unknown session, PERMISSION_DENIED
   * for a wrong or missing secret. A worker id alone gives nothing.
   */
  authenticWorker(id: string, secret: string): WorkerSession {
    return checkSecret(this.worker(id), secret);
  }

  /**
   * The session a report comes from, its secret checked: a live one, or one
   * given up recently (its results are still fenced one by one, so a late
   * result is counted, and taken if nobody restarted its task yet). Else
   * NOT_FOUND.
   */
  reportingWorker(id: string, secret: string, proof?: SecretProof): WorkerSession {
    const worker = this.workers.getLost(id) ?? this.worker(id);
    if (proof !== undefined && proof.worker === worker && proof.secret === secret) return worker;
    checkSecret(worker, secret);
    if (proof !== undefined) {
      proof.worker = worker;
      proof.secret = secret;
    }
    return worker;
  }

  /**
   * Binds a worker's dispatch stream; work flows at once. The first message
   * is a ping (the worker knows it is attached), plus cancel signals for
   * attempts it still holds whose task was cancelled while it was away.
   * `capacity` is what the worker says it has free now, if less than its
   * concurrency (tasks of an earlier session may still run there); `held`,
   * the attempts of this session it still holds.
   */
  attach(worker: WorkerSession, stream: AsyncQueue<DispatchResponse>, capacity: number | undefined, held: readonly AttemptRef[] | undefined, now: number): void {
    worker.attach(stream);
    if (capacity !== undefined) worker.capacity = Math.max(0, Math.min(worker.identity.concurrency, capacity));
    if (held !== undefined) this.attempts.reconcile(worker, held, now);
    worker.ping(now);
    for (const attempt of worker.inflight) {
      const task = attempt.task;
      if (task.state !== TaskState.RUNNING || task.attempt !== attempt.number) {
        worker.cancel(create(CancelSignalSchema, { taskId: task.id, attempt: attempt.number, reason: task.error?.message ?? "superseded" }));
      }
    }
    worker.flush();
    this.events.emit("worker.attached", worker);
    this.dispatcher.schedule();
  }

  /** A dispatch stream ended: unacknowledged assignments go back; a drained worker leaves. */
  detach(worker: WorkerSession, stream: AsyncQueue<DispatchResponse>, now: number): void {
    if (!worker.detach(stream, now)) return;
    this.attempts.requeueUnacked(worker, now);
    this.events.emit("worker.detached", worker);
    if (worker.draining && worker.inflight.size === 0) {
      this.forget(worker);
      this.events.emit("worker.left", worker);
    }
  }

  /** Ends every worker's dispatch stream (shutdown); workers reconnect elsewhere or later. */
  closeStreams(): void {
    for (const worker of this.workers.live()) worker.stream?.close();
  }

  /** Gives a worker up: its attempts go back to the queue at their places. */
  loseWorker(worker: WorkerSession, now: number, reason: string): void {
    this.attempts.loseAll(worker, now, reason);
    worker.markLost(reason);
    this.forget(worker);
    this.events.emit("worker.lost", worker, reason);
  }

  /** Drops a worker session that drained or was lost (its record too). */
  private forget(worker: WorkerSession): void {
    this.workers.remove(worker);
    this.store.saveRecord("workers", worker.id, undefined);
  }

  /** Applies a worker's batch of acknowledgements, progress, results, hand-backs and heartbeat. */
  report(worker: WorkerSession, request: ReportResultsRequest, now: number): ReportResultsResponse {
    const rejected: RejectedItem[] = [];
    let accepted = 0;
    const note = (item: RejectedItem | undefined): void => {
      if (item === undefined) accepted++;
      else {
        rejected.push(item);
        this.events.emit("report.rejected", worker, item.taskId, item.attempt, item.status?.message ?? "");
      }
    };
    if (worker.state === WorkerState.LOST) {
      // A lost session: only its results and hand-backs can still matter; heartbeats and acks prove nothing now.
      if (request.results.length === 0 && request.released.length === 0) this.worker(worker.id); // NOT_FOUND: register again (logs alone keep no session alive)
      for (const update of request.logs) note(this.attempts.logs(worker, update, now));
      for (const result of request.results) note(this.attempts.result(worker, result, now));
      for (const ref of request.released) note(this.attempts.release(worker, ref.taskId, ref.attempt, now));
      return create(ReportResultsResponseSchema, { accepted, rejected });
    }
    for (const ref of request.acks) note(this.attempts.ack(worker, ref.taskId, ref.attempt, now));
    for (const update of request.progress) note(this.attempts.progress(worker, update, now));
    // Logs before results: a handler's last lines come in the report that ends its attempt.
    for (const update of request.logs) note(this.attempts.logs(worker, update, now));
    for (const result of request.results) note(this.attempts.result(worker, result, now));
    for (const ref of request.released) note(this.attempts.release(worker, ref.taskId, ref.attempt, now));
    const heartbeat = request.heartbeat;
    if (heartbeat !== undefined) {
      worker.lastHeartbeatAt = now;
      worker.capacity = Math.max(0, Math.min(worker.identity.concurrency, heartbeat.capacity));
      if (heartbeat.draining !== worker.draining) worker.setDraining(heartbeat.draining);
      // A ping this control plane never sent proves nothing (a forged one must not re-queue what the worker holds).
      if (heartbeat.ping <= worker.lastPing) {
        worker.echo(heartbeat.ping);
        this.attempts.expireUnacked(worker, heartbeat.ping, now);
      }
      if (worker.draining && worker.stream === undefined && worker.inflight.size === 0) {
        this.forget(worker);
        this.events.emit("worker.left", worker);
      }
    }
    if (worker.free > 0) this.dispatcher.schedule();
    return create(ReportResultsResponseSchema, { accepted, rejected });
  }
}
