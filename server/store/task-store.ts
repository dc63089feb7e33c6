import { type AttemptOutcome, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { isFinalState } from "../../common/task-state.js";
import { ColdTier } from "./cold-tier.js";
import { TaggedDeque } from "./deque.js";
import { GroupCommit } from "./group-commit.js";
import { History, nextTurn, PAUSE } from "./history.js";
import { IndexedHeap } from "./indexed-heap.js";
import { listPage } from "./listing.js";
import type { ColdLanes } from "./run-order.js";
import { matchesFilter, needsScan, testsLanesOnly } from "./task-filter.js";
import { argsDigest, encodeKey, KeyIndex, scopedKey, type RememberedKey } from "./key-index.js";
import { clearRun, runOf, setArgsBytes, setEvicted, setState, TASK_SLOT, writable, writableAttempt } from "./internal/writable.js";
import { NameCounts, type StateTally } from "./name-counts.js";
import { Queues, type LaneKeyOf } from "./queues.js";
import { argsInline, decodeTask, encodeTask } from "./record-codec.js";
import type { Collection, LogValue, LogWrite, StateLog } from "./state-log.js";
import type { PageRequest, StateCounts, TaskFilter, TaskPage } from "./store.js";
import { TaskIds } from "./task-ids.js";
import { AttemptRecord, NO_OPTIONS, type LogEntry, type ProgressData, type TaskErrorData, type TaskRecord } from "./task-record.js";
import { LOG_CUT_MARKER, LOG_LIMITS, utf8Bytes } from "../../common/log-limits.js";

/** Options for {@link TaskStore}. */
export interface TaskStoreOptions {
  /** How long a final task (its result) is kept. */
  resultTtlMs: number;
  /** The most final tasks kept; the oldest go first. */
  maxResults: number;
  /**
   * How long an idempotency key is remembered after its task finished
   * (default: resultTtlMs; never less). A key outliving its task's record
   * stays in a compact index.
   */
  keyTtlMs?: number;
  /** Where the state is kept durably; without one the store lives in memory only. */
  log?: StateLog | undefined;
  /** Called once if the log fails: from then on nothing is acknowledged. */
  onLogFailure?: (err: Error) => void;
  /**
   * Past this many queued tasks in memory, new ones wait on disk only (the
   * cold tier: see ColdTier), when the log can read synchronously (LMDB).
   * Unset: every queued task is in memory.
   */
  hotQueued?: number;
}

/** What a durable store found at start, for the engine to rebuild the rest from. */
export interface Recovered {
  /** Tasks that were RUNNING: their attempts may still be running on workers. */
  running: TaskRecord[];
  /** Tasks waiting for a time (delays, retry backoffs). */
  scheduled: TaskRecord[];
  /** Side records, by collection: worker sessions, task definitions, metadata. */
  records: Map<Collection, Map<string, LogValue>>;
  /** The highest creation order seen (new tasks continue after it). */
  maxOrder: number;
  /** Tasks loaded, all states. */
  tasks: number;
}

/** What an idempotency key matched: a task still kept, or only the key of one that is gone. */
export type KeyMatch = { task: TaskRecord; remembered?: undefined } | { task?: undefined; remembered: RememberedKey };

/** The final states a task can be finished in. */
export type FinalState = TaskState.SUCCEEDED | TaskState.FAILED | TaskState.CANCELLED;

/**
 * The control plane's task state, and the one place it changes. The state
 * is in memory (the read model: records, per-name priority queues,
 * idempotency keys, the retention FIFO, listings), except, on a log that
 * reads synchronously (LMDB) with `hotQueued` set, the queued tasks past
 * that bound: those wait on disk (see ColdTier). Every operation below
 * changes the state at once and, when the store has a {@link StateLog},
 * records the change for the next group-commit batch. Reads never wait.
 *
 * Durability contract:
 * - {@link commit} resolves once every change made so far is on disk: the
 *   services await it before acknowledging (a submission, a result, a
 *   registration, a cancel).
 * - {@link afterCommit} runs code once the changes made so far are on disk:
 *   waiters hear of a final state only then.
 * - Dispatch does not wait for the disk (that would put a second fsync on
 *   every task's path): a new task may start on a worker while its submission
 *   is being written. If the control plane dies in that window, the
 *   submission was never acknowledged (its submitter gets UNAVAILABLE) and is
 *   forgotten, though its handler may have run; every acknowledged task is
 *   kept. A dispatch is written with the task's next change (or within
 *   LAZY_WRITE_MS): a worker that reattaches after a crash says which
 *   attempts it holds, and the control plane adopts those it had not
 *   recorded.
 * - Acknowledgements and progress of attempts are written with the task's
 *   next change, not on their own: after a crash a worker tells which
 *   attempts it still holds when it reattaches.
 */
export class TaskStore {
  /** The ids this store's tasks are given (a task made in this run is found by its order, in history). */
  readonly ids = new TaskIds();
  /** Tasks whose id this store's {@link ids} did not make (loaded from the log, made by tests), by id. */
  private readonly byId = new Map<string, TaskRecord>();
  /** Kept tasks by scoped idempotency key (task name + key). */
  private readonly byKey = new Map<string, TaskRecord>();
  private readonly keys = new KeyIndex();
  private readonly queues = new Queues();
  private readonly history = new History({ span: (lo, hi) => this.cold?.span(lo, hi) ?? new Map() });
  /** Queued tasks kept on disk only, past options.hotQueued (a durable store on LMDB). */
  private readonly cold: ColdTier | undefined;
  /** Tasks per state of each name (ListTaskNames). */
  private readonly names = new NameCounts();
  /** Final tasks in the order they finished, tagged with finishSeq. */
  private readonly retained = new TaggedDeque<TaskRecord>(1024);
  /** Tasks per non-queued state, index = TaskState. */
  private readonly byState: number[] = new Array<number>(TaskState.CANCELLED + 1).fill(0);
  private finishSeq = 0;
  private queueSeq = 0;
  /** Args bytes of QUEUED and SCHEDULED tasks (the backlog admission control bounds). */
  private backlogBytes = 0;
  /** SCHEDULED tasks by due time; a task leaves it at once when it leaves SCHEDULED (e.g. cancelled). */
  private readonly due = new IndexedHeap<TaskRecord>(TASK_SLOT);
  private readonly commits: GroupCommit | undefined;
  private dirty = new Set<TaskRecord>();
  /** Tasks whose only change is a dispatch: written with their next change, or within LAZY_WRITE_MS. */
  private lazy = new Set<TaskRecord>();
  private lazyTimer: NodeJS.Timeout | undefined;
  private pending: LogWrite[] = [];

  /** A store in memory only (no log), or an empty durable one; use {@link open} to load a log. */
  constructor(private readonly options: TaskStoreOptions) {
    if (options.log !== undefined) {
      this.commits = new GroupCommit(options.log, () => this.cut(), (err) => options.onLogFailure?.(err));
    }
    const reads = options.log?.reads;
    if (reads !== undefined && options.hotQueued !== undefined) {
      this.cold = new ColdTier(reads, options.hotQueued, {
        inMemory: (order) => {
          const entry = this.history.byOrder(order);
          return typeof entry === "number" ? undefined : entry;
        },
        keep: (task) => {
          this.history.replace(task.order, task);
          if (task.idSource !== this.ids) this.byId.set(task.id, task);
        },
        release: (task) => {
          this.history.replace(task.order, task.order);
          if (task.idSource !== this.ids) this.byId.delete(task.id);
        },
      });
    }
  }

  /** Opens a store on a log and rebuilds the state it holds. */
  static async open(options: TaskStoreOptions & { log: StateLog }): Promise<{ store: TaskStore; recovered: Recovered }> {
    const store = new TaskStore(options);
    const recovered = await store.load(options.log);
    return { store, recovered };
  }

  /** True when changes are written to a log. */
  get durable(): boolean {
    return this.commits !== undefined;
  }

  /** Where the state is kept, for the ready line. */
  get description(): string {
    return this.options.log?.description ?? "in memory";
  }

  // ── Reads ────────────────────────────────────────────────────────────────

  /** A retained task by id; expired results are not returned. */
  get(id: string, now: number): TaskRecord | undefined {
    const task = this.lookup(id);
    if (task !== undefined && this.isExpired(task, now)) {
      this.evict(task, now);
      return undefined;
    }
    return task;
  }

  /**
   * What a task name's idempotency key matches: the task submitted with it,
   * or, once that task's record is gone, the remembered key until the key
   * TTL ends. Keys of different names never match.
   */
  getByKey(name: string, key: string, now: number): KeyMatch | undefined {
    const scoped = scopedKey(name, key);
    const task = this.byKey.get(scoped);
    if (task !== undefined && this.get(task.id, now) !== undefined) return { task };
    const remembered = this.keys.get(scoped, now);
    return remembered === undefined ? undefined : { remembered };
  }

  /** Idempotency keys remembered without their tasks (for --check and stats). */
  get rememberedKeys(): number {
    return this.keys.size;
  }

  /**
   * One page of the tasks a filter matches, in an order (newest first by
   * default), from a cursor either way. A page that must walk far (a rare
   * filter, a total the counters cannot give) lets the event loop run
   * between chunks: each task is seen as it is when the walk reaches it.
   */
  async list(filter: TaskFilter, page: PageRequest, now: number): Promise<TaskPage> {
    const listed = (task: TaskRecord): boolean => !task.evicted && !this.isExpired(task, now) && matchesFilter(task, filter);
    const cold = this.coldLanes(filter);
    return listPage(this.history, listed, page, () => this.totalFromCounters(filter) ?? this.history.count(listed, cold !== undefined), cold);
  }

  /**
   * The kept tasks a filter matches, oldest first, at most `max` (then
   * `more`): for actions on many tasks. A walk of every task (cold ones
   * read from disk in chunks, and those that match kept in memory: the
   * caller is about to change them) that lets the event loop run between
   * chunks; each task is tested when the walk reaches it, and the ones
   * found are tested again at the end, so every task answered matches now
   * (one that came to match after the walk passed it is not included, as
   * if it had changed after the answer).
   */
  async matching(filter: TaskFilter, now: number, max = Number.POSITIVE_INFINITY): Promise<{ tasks: TaskRecord[]; more: boolean }> {
    const listed = (task: TaskRecord): boolean => !task.evicted && !this.isExpired(task, now) && matchesFilter(task, filter);
    const found: TaskRecord[] = [];
    let more = false;
    for (const task of this.history.walk(0, 1, this.coldLanes(filter) !== undefined)) {
      if (task === PAUSE) {
        await nextTurn();
        continue;
      }
      if (!listed(task)) continue;
      if (found.length === max) {
        more = true;
        break;
      }
      // Kept only once it matched: a walk must not keep every cold task it reads.
      found.push(this.cold === undefined ? task : this.cold.pinRead(task));
    }
    return { tasks: found.filter(listed), more };
  }

  /**
   * The cold tier's lanes a filter may match (undefined: none, so a walk
   * skips the tier's tasks without reading them): its tasks are all QUEUED,
   * of the names and priorities the tier counts.
   */
  private coldLanes(filter: TaskFilter): ColdLanes | undefined {
    const cold = this.cold;
    if (cold === undefined || cold.total === 0) return undefined;
    if (filter.states?.length && !filter.states.includes(TaskState.QUEUED)) return undefined;
    const lanes = [...cold.laneCounts()].filter(
      (lane) => (!filter.name || lane.name === filter.name) && (!filter.priority || lane.priority === filter.priority) && (filter.nameContains === undefined || filter.nameContains.test(lane.name)),
    );
    if (lanes.length === 0) return undefined;
    return {
      lanes,
      whole: testsLanesOnly(filter),
      isCold: (task) => cold.isCold(task),
      seek: (name, priority, queueSeq) => cold.seek(name, priority, queueSeq),
      readLane: (name, priority, read) => cold.readLane(name, priority, read),
    };
  }

  /** Each task name with kept tasks, and its tasks per state (index = TaskState). */
  nameCounts(): IterableIterator<[string, StateTally]> {
    return this.names.entries();
  }

  /** One name's tasks per state (index = TaskState). */
  countsOf(name: string): StateTally {
    return this.names.get(name);
  }

  /** Tasks waiting to run (QUEUED and SCHEDULED) and the bytes of their args: what admission control bounds. */
  backlog(): { tasks: number; bytes: number } {
    return { tasks: this.queued() + this.byState[TaskState.SCHEDULED]!, bytes: this.backlogBytes };
  }

  /** When the earliest SCHEDULED task is due (Infinity when none is). */
  nextDueAt(): number {
    return this.due.peekKey();
  }

  /**
   * The earliest SCHEDULED task due by `now`, taken out of the due-time
   * order (it stays SCHEDULED: the caller queues it at once), or undefined.
   */
  takeDue(now: number): TaskRecord | undefined {
    return this.due.peekKey() <= now ? this.due.pop() : undefined;
  }

  counts(): StateCounts {
    return {
      queued: this.cold === undefined ? this.queues.counts : this.queues.counts.map((n, p) => n + this.cold!.counts[p]!),
      scheduled: this.byState[TaskState.SCHEDULED]!,
      running: this.byState[TaskState.RUNNING]!,
      succeeded: this.byState[TaskState.SUCCEEDED]!,
      failed: this.byState[TaskState.FAILED]!,
      cancelled: this.byState[TaskState.CANCELLED]!,
    };
  }

  // ── Changes ──────────────────────────────────────────────────────────────

  /** Adds a new task: QUEUED at the back of its priority, or SCHEDULED until `scheduledFor`. */
  insert(task: TaskRecord, scheduledFor = 0): void {
    if (task.idSource !== this.ids) this.byId.set(task.id, task);
    this.history.push(task);
    const key = task.options.idempotencyKey;
    if (key) {
      const scoped = scopedKey(task.name, key);
      this.byKey.set(scoped, task);
      if (this.keys.delete(scoped) && this.commits !== undefined) this.pending.push({ collection: "keys", key: scoped, value: undefined });
    }
    setArgsBytes(task, Buffer.byteLength(task.argsJson, "utf8"));
    if (scheduledFor > 0) {
      setState(task, TaskState.SCHEDULED);
      runOf(task).scheduledFor = scheduledFor;
      this.byState[TaskState.SCHEDULED]!++;
      this.names.add(task.name, TaskState.SCHEDULED);
      this.backlogBytes += task.argsBytes;
      this.due.push(task, scheduledFor);
    } else {
      this.pushQueued(task, false, true);
    }
    if (this.commits !== undefined && !argsInline(task)) this.pending.push({ collection: "args", key: task.id, value: task.argsJson });
    this.touch(task);
  }

  /**
   * Takes the next task for a worker serving these names (strict priority,
   * FIFO within it) and moves it to RUNNING; the caller starts its attempt
   * at once.
   */
  takeNext(names: readonly string[]): TaskRecord | undefined {
    // Tasks in parked lanes (a flow limit holds them back) are skipped at no cost: see Queues.
    const task = this.queues.take(names);
    if (task === undefined) return undefined;
    this.queues.remove(task);
    this.names.remove(task.name, TaskState.QUEUED);
    this.backlogBytes -= task.argsBytes;
    this.enter(task, TaskState.RUNNING);
    this.touchLater(task);
    this.topUp(task.name, task.priority);
    return task;
  }

  /** Records attempt n+1 of a RUNNING task, given to a worker. */
  startAttempt(task: TaskRecord, workerId: string, workerName: string, now: number): AttemptRecord {
    const attempt = new AttemptRecord(task, task.attempt + 1, workerId, workerName, now);
    const w = runOf(task);
    w.attempt = attempt.number;
    (w.attempts ??= []).push(attempt);
    if (task.startedAt === 0) w.startedAt = now;
    this.touchLater(task);
    return attempt;
  }

  /** The worker confirmed it received the attempt (written with the task's next change). */
  acknowledge(attempt: AttemptRecord, now: number): void {
    writableAttempt(attempt).ackedAt = now;
  }

  /**
   * Appends lines a handler wrote (already cut to a line's bound), within
   * the task's bounds: past them one marker line, then only a count of what
   * was dropped (`dropped`: lines the worker already dropped). Written with
   * the task's next change, or within LAZY_WRITE_MS.
   */
  appendLogs(task: TaskRecord, lines: readonly LogEntry[], dropped: number): void {
    const w = runOf(task);
    const logs = (w.logs as LogEntry[] | undefined) ?? [];
    let bytes = task.logBytes;
    let lost = task.logsDropped;
    const cut = (entry: LogEntry): void => {
      if (lost === 0) logs.push({ at: entry.at, attempt: entry.attempt, text: LOG_CUT_MARKER });
      lost++;
    };
    for (const line of lines) {
      const size = utf8Bytes(line.text);
      if (lost > 0 || logs.length >= LOG_LIMITS.taskLines || bytes + size > LOG_LIMITS.taskBytes) cut(line);
      else {
        logs.push(line);
        bytes += size;
      }
    }
    if (dropped > 0) {
      const last = lines[lines.length - 1] ?? { at: Date.now(), attempt: task.attempt, text: "" };
      cut(last);
      lost += dropped - 1;
    }
    w.logs = logs;
    w.logBytes = bytes;
    w.logsDropped = lost;
    this.touchLater(task);
  }

  /** The handler's latest progress (written with the task's next change). */
  setProgress(task: TaskRecord, progress: ProgressData): void {
    runOf(task).progress = progress;
  }

  /**
   * RUNNING again for an attempt a worker holds that the control plane had
   * not recorded before a restart (the task is QUEUED or SCHEDULED with the
   * attempt before it): the attempt is recorded as given to that worker.
   */
  adopt(task: TaskRecord, workerId: string, workerName: string, now: number): AttemptRecord {
    this.leave(task);
    this.enter(task, TaskState.RUNNING);
    return this.startAttempt(task, workerId, workerName, now);
  }

  /** Ends an attempt with an outcome. */
  endAttempt(attempt: AttemptRecord, outcome: AttemptOutcome, now: number, error?: TaskErrorData): void {
    const w = writableAttempt(attempt);
    w.outcome = outcome;
    w.finishedAt = now;
    if (error !== undefined) w.error = error;
    this.touch(attempt.task);
  }

  /** Counts a failed attempt of the current series (a success or failure ends a run of losses). */
  countFailure(task: TaskRecord): number {
    const w = runOf(task);
    w.losses = 0;
    this.touch(task);
    return ++w.failures;
  }

  /** Counts a lost attempt; returns the losses in a row. */
  countLoss(task: TaskRecord): number {
    this.touch(task);
    return ++runOf(task).losses;
  }

  /** SCHEDULED until `at` (a retry's backoff), then the scheduler queues it. */
  schedule(task: TaskRecord, at: number): void {
    this.leave(task);
    runOf(task).scheduledFor = at;
    this.enter(task, TaskState.SCHEDULED);
    this.touch(task);
  }

  /** QUEUED at the back of its priority. */
  enqueue(task: TaskRecord): void {
    if (task.state === TaskState.QUEUED) throw new Error(`task ${task.id} is already queued`);
    this.leave(task);
    this.pushQueued(task, false);
    this.touch(task);
  }

  /** QUEUED again at the place it had (after a lost or handed-back attempt). */
  requeue(task: TaskRecord): void {
    if (task.state === TaskState.QUEUED) throw new Error(`task ${task.id} is already queued`);
    this.leave(task);
    this.pushQueued(task, task.queueSeq > 0);
    this.touch(task);
  }

  /** A final state, with the result or the error; the task is kept for the result TTL. */
  finish(task: TaskRecord, state: FinalState, now: number, outcome: { resultJson?: string; error?: TaskErrorData }): void {
    this.leave(task);
    this.enter(task, state);
    const w = runOf(task);
    w.finishedAt = now;
    w.losses = state === TaskState.SUCCEEDED ? 0 : task.losses;
    if (outcome.resultJson !== undefined) w.resultJson = outcome.resultJson;
    if (outcome.error !== undefined) w.error = outcome.error;
    w.finishSeq = ++this.finishSeq;
    this.retained.push(task, task.finishSeq);
    this.touch(task);
  }

  /** A FAILED or CANCELLED task starts a fresh series of attempts, queued at the back. */
  restartSeries(task: TaskRecord): void {
    const w = runOf(task);
    w.failures = 0;
    w.losses = 0;
    w.seriesStart = task.attempt;
    w.series = task.series + 1;
    w.error = undefined;
    w.finishedAt = 0;
    w.progress = undefined;
    this.enqueue(task);
  }

  // ── Flow-limit lanes (not task changes: which queued tasks may be taken) ──

  /** Holds back a lane's queued tasks: its name (key "") or one value of its limit key. */
  parkLane(name: string, key: string): void {
    this.queues.park(name, key);
  }

  /** Makes a lane's queued tasks takeable again. */
  unparkLane(name: string, key: string): void {
    this.queues.unpark(name, key);
  }

  isParked(name: string, key: string): boolean {
    return this.queues.isParked(name, key);
  }

  /** Holds back every queued task of a name (PauseTaskName); the engine keeps the pause durable. */
  pauseName(name: string): void {
    this.queues.pauseName(name);
  }

  /** Makes a paused name's queued tasks takeable again. */
  resumeName(name: string): void {
    this.queues.resumeName(name);
  }

  /** Queued tasks held back per parked lane of a name. */
  parkedCounts(name: string): Map<string, number> {
    return this.queues.parkedCounts(name);
  }

  /** Splits a name's queued tasks into lanes by a keyed limit's key (undefined: one lane). */
  setLaneKey(name: string, keyOf: LaneKeyOf | undefined): void {
    this.queues.setLaneKey(name, keyOf);
  }

  /** Drops expired results and the oldest beyond the maximum, and forgets expired keys; returns how many tasks went. */
  sweep(now: number): number {
    for (const scoped of this.keys.sweep(now)) {
      if (this.commits === undefined) continue;
      this.pending.push({ collection: "keys", key: scoped, value: undefined });
      this.commits.schedule();
    }
    let evicted = 0;
    for (;;) {
      const task = this.retained.peek();
      if (task === undefined) break;
      const stale = task.evicted || !isFinalState(task.state) || task.finishSeq !== this.retained.peekTag();
      if (!stale && !this.isExpired(task, now) && this.retainedCount() <= this.options.maxResults) break;
      this.retained.shift();
      if (!stale) {
        this.evict(task, now);
        evicted++;
      }
    }
    return evicted;
  }

  /** Writes a side record (a worker session, a task definition, metadata); undefined deletes it. */
  saveRecord(collection: Exclude<Collection, "tasks" | "args" | "keys">, key: string, value: LogValue | undefined): void {
    if (this.commits === undefined) return;
    this.pending.push({ collection, key, value });
    this.commits.schedule();
  }

  // ── Durability ───────────────────────────────────────────────────────────

  /** Resolves once every change made so far is durable (at once in memory); rejects if the log failed. */
  commit(): Promise<void> {
    return this.commits === undefined ? RESOLVED : this.commits.barrier();
  }

  /** Runs `fn` once every change made so far is durable (in memory: now). */
  afterCommit(fn: () => void): void {
    if (this.commits === undefined) fn();
    else this.commits.afterDurable(fn);
  }

  /** The error that stopped the log, if it failed. */
  get failure(): Error | undefined {
    return this.commits?.failed;
  }

  /** Writes what is pending, then closes the log. */
  async close(): Promise<void> {
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    for (const t of this.lazy) this.dirty.add(t);
    this.lazy.clear();
    if (this.dirty.size > 0) this.commits?.schedule();
    if (this.commits !== undefined) await this.commits.drain().catch(() => undefined); // the failure was reported when it happened
    await this.options.log?.close();
  }

  // ── Internals ────────────────────────────────────────────────────────────

  private touch(task: TaskRecord): void {
    if (this.commits === undefined) return;
    this.lazy.delete(task);
    this.dirty.add(task);
    this.commits.schedule();
  }

  /**
   * A dispatch: written with the task's next change (a short task's result
   * carries it), or within LAZY_WRITE_MS if it runs longer. Not writing every
   * dispatch on its own saves a quarter of the writes per task; if the control
   * plane dies before the write, the worker says it holds the attempt when it
   * reattaches and the attempt is adopted (see AttemptTracker.reconcile).
   */
  private touchLater(task: TaskRecord): void {
    if (this.commits === undefined || this.dirty.has(task)) return;
    this.lazy.add(task);
    this.lazyTimer ??= setTimeout(() => {
      this.lazyTimer = undefined;
      for (const t of this.lazy) this.dirty.add(t);
      this.lazy.clear();
      this.commits?.schedule();
    }, LAZY_WRITE_MS).unref();
  }

  /** Cuts a group-commit batch: the side records, then every task changed since the last cut. */
  private cut(): { writes: LogWrite[]; durable(): void } {
    const writes = this.pending;
    this.pending = [];
    const cold = this.cold;
    const cooled: TaskRecord[] = [];
    for (const task of this.dirty) {
      if (task.evicted) continue;
      if (cold !== undefined && cold.isNew(task)) {
        writes.push(cold.cutNew(task));
        cooled.push(task);
        continue;
      }
      if (cold?.isOnDiskOnly(task)) continue; // its record is in the cold collection, unchanged
      writes.push({ collection: "tasks", key: task.id, value: encodeTask(task) });
      // A task that was cold moves to "tasks" in one batch (never in both, never in neither).
      const left = cold?.forget(task);
      if (left !== undefined) writes.push(left);
    }
    this.dirty = new Set();
    return { writes, durable: cooled.length === 0 ? NOTHING : () => cold!.durable(cooled) };
  }

  /**
   * QUEUED: in memory at the back of its priority (or at its old place), or
   * in the cold tier: behind its lane's cold tasks while it has some, and,
   * for a new task (`fresh`) past options.hotQueued, on disk only.
   */
  private pushQueued(task: TaskRecord, atOldPlace: boolean, fresh = false): void {
    setState(task, TaskState.QUEUED);
    this.backlogBytes += task.argsBytes;
    if (!atOldPlace) writable(task).queueSeq = ++this.queueSeq;
    this.names.add(task.name, TaskState.QUEUED);
    const cold = this.cold;
    if (cold !== undefined && !atOldPlace) {
      // Only a task of this run without an idempotency key leaves memory: its id is spelled from its
      // order, and a key stays findable (byKey) with its record.
      const coolable = fresh && task.idSource === this.ids && !task.options.idempotencyKey;
      if (cold.countOf(task.name, task.priority) > 0) {
        if (coolable) cold.addNew(task);
        else cold.addBehind(task);
        return;
      }
      if (coolable && this.queues.total >= cold.hotQueued && this.queues.queuedIn(task.name, task.priority) >= cold.refillBelow) {
        cold.addNew(task);
        return;
      }
    }
    this.queues.add(task, atOldPlace);
  }

  /** Queued tasks, in memory and cold. */
  private queued(): number {
    return this.queues.total + (this.cold?.total ?? 0);
  }

  /** Reads a name and priority's next cold tasks into memory when its in-memory FIFO runs low. */
  private topUp(name: string, priority: number): void {
    const cold = this.cold;
    if (cold === undefined || cold.countOf(name, priority) === 0 || this.queues.queuedIn(name, priority) >= cold.refillBelow) return;
    for (const task of cold.take(name, priority)) this.queues.add(task, false);
  }

  /** Uncounts a task from the state it leaves. */
  private leave(task: TaskRecord): void {
    if (task.state === TaskState.QUEUED) {
      if (this.cold?.isCold(task)) this.cold.remove(task);
      else {
        this.queues.remove(task);
        this.topUp(task.name, task.priority);
      }
    } else this.byState[task.state]!--;
    this.names.remove(task.name, task.state);
    if (task.state === TaskState.QUEUED || task.state === TaskState.SCHEDULED) this.backlogBytes -= task.argsBytes;
    if (task.state === TaskState.SCHEDULED) this.due.remove(task);
  }

  private enter(task: TaskRecord, state: TaskState): void {
    setState(task, state);
    this.byState[state]!++;
    this.names.add(task.name, state);
    if (state === TaskState.SCHEDULED) {
      this.backlogBytes += task.argsBytes;
      this.due.push(task, task.scheduledFor);
    }
  }

  /** A kept record by id (expired ones included). */
  private lookup(id: string): TaskRecord | undefined {
    const order = this.ids.orderOf(id);
    if (order !== undefined) {
      const task = this.history.byOrder(order);
      // A cold task is read from disk, and kept in memory while it stays cold (the caller may follow or change it).
      if (typeof task === "number") return task >= 0 ? this.cold?.find(order, true, id) : undefined;
      if (task !== undefined && task.idSource === this.ids && !task.evicted) {
        this.cold?.pin(task);
        return task;
      }
    }
    const known = this.byId.get(id);
    if (known !== undefined) {
      this.cold?.pin(known);
      return known;
    }
    return this.cold?.findById(id);
  }

  private get keyTtlMs(): number {
    return Math.max(this.options.keyTtlMs ?? 0, this.options.resultTtlMs);
  }

  private retainedCount(): number {
    return this.byState[TaskState.SUCCEEDED]! + this.byState[TaskState.FAILED]! + this.byState[TaskState.CANCELLED]!;
  }

  private isExpired(task: TaskRecord, now: number): boolean {
    return task.finishedAt > 0 && isFinalState(task.state) && task.finishedAt + this.options.resultTtlMs <= now;
  }

  private evict(task: TaskRecord, now: number): void {
    if (task.evicted) return;
    setEvicted(task);
    if (task.idSource !== this.ids) this.byId.delete(task.id);
    const key = task.options.idempotencyKey;
    const scoped = key ? scopedKey(task.name, key) : undefined;
    if (scoped !== undefined && this.byKey.get(scoped) === task) {
      this.byKey.delete(scoped);
      // The key outlives the record: remember it compactly until its TTL ends.
      const expiresAt = (task.finishedAt || now) + this.keyTtlMs;
      if (expiresAt > now) {
        const remembered: RememberedKey = { id: task.id, digest: argsDigest(task.argsJson), expiresAt, state: task.state };
        this.keys.set(scoped, remembered);
        if (this.commits !== undefined) this.pending.push({ collection: "keys", key: scoped, value: encodeKey(remembered) });
      }
    }
    this.byState[task.state]!--;
    this.names.remove(task.name, task.state);
    this.history.evict(task);
    if (this.commits !== undefined) {
      this.dirty.delete(task);
      this.lazy.delete(task);
      this.pending.push({ collection: "tasks", key: task.id, value: undefined });
      const coldEntry = this.cold?.forget(task);
      if (coldEntry !== undefined) this.pending.push(coldEntry);
      if (!argsInline(task)) this.pending.push({ collection: "args", key: task.id, value: undefined });
      this.commits.schedule();
    }
    // Listings may hold the record a while longer (History compacts lazily): not its payload.
    const w = writable(task);
    w.argsJson = "";
    setArgsBytes(task, 0);
    clearRun(task);
    w.options = NO_OPTIONS;
  }

  /**
   * The total a filter matches, when the counters alone can tell: per state,
   * or per name and state (a name's page then costs its page, not a walk of
   * every task, cold ones read from disk).
   */
  private totalFromCounters(filter: TaskFilter): number | undefined {
    if (needsScan(filter)) return undefined;
    const states = filter.states?.length ? filter.states : undefined;
    const ofName = filter.name ? this.names.get(filter.name) : undefined;
    const count = (state: TaskState): number =>
      ofName !== undefined ? ofName[state]! : state === TaskState.QUEUED ? this.queued() : this.byState[state]!;
    if (states === undefined) {
      let total = 0;
      for (let s = TaskState.QUEUED; s <= TaskState.CANCELLED; s++) total += count(s);
      return total;
    }
    return states.reduce((sum, s) => sum + count(s), 0);
  }

  /** Reads every collection of the log and rebuilds the state (at start, on an empty store). */
  private async load(log: StateLog): Promise<Recovered> {
    const args = new Map<string, string>();
    for await (const [id, value] of log.load("args")) args.set(id, value as string);
    const loaded: TaskRecord[] = [];
    for await (const [id, value] of log.load("tasks")) {
      loaded.push(decodeTask(id, value, (key) => args.get(key)));
    }
    // The cold tier: its keys only (counts, bytes, orders); records are read as their turn comes.
    const cold = this.cold?.load();
    const records = new Map<Collection, Map<string, LogValue>>();
    const keys: [string, LogValue][] = [];
    for await (const [key, value] of log.load("keys")) keys.push([key, value]);
    this.keys.load(keys);
    for (const collection of ["workers", "definitions", "meta", "schedules", "limits"] as const) {
      const map = new Map<string, LogValue>();
      for await (const [key, value] of log.load(collection)) map.set(key, value);
      records.set(collection, map);
    }
    return { ...this.rebuild(loaded, cold), records };
  }

  private rebuild(loaded: TaskRecord[], cold?: { orders: Float64Array; maxOrder: number; maxQueueSeq: number }): Omit<Recovered, "records"> {
    const running: TaskRecord[] = [];
    const scheduled: TaskRecord[] = [];
    const queued: TaskRecord[] = [];
    const finished: TaskRecord[] = [];
    let maxOrder = 0;
    for (const task of loaded) {
      this.byId.set(task.id, task);
      setArgsBytes(task, Buffer.byteLength(task.argsJson, "utf8"));
      const key = task.options.idempotencyKey;
      if (key) this.byKey.set(scopedKey(task.name, key), task);
      maxOrder = Math.max(maxOrder, task.order);
      this.names.add(task.name, task.state);
      this.queueSeq = Math.max(this.queueSeq, task.queueSeq);
      this.finishSeq = Math.max(this.finishSeq, task.finishSeq);
      if (task.state === TaskState.QUEUED) queued.push(task);
      else {
        this.byState[task.state]!++;
        if (task.state === TaskState.RUNNING) running.push(task);
        else if (task.state === TaskState.SCHEDULED) {
          scheduled.push(task);
          this.backlogBytes += task.argsBytes;
          this.due.push(task, task.scheduledFor);
        }
        else finished.push(task);
      }
    }
    const tasks = loaded.length;
    this.history.load(loaded, cold?.orders);
    // The cold tasks on disk count as queued (names, backlog bytes) before any is read back.
    const coldLanes = this.cold === undefined ? [] : [...this.cold.laneCounts()];
    for (const { name, count } of coldLanes) this.names.add(name, TaskState.QUEUED, count);
    this.backlogBytes += this.cold?.bytes ?? 0;
    // Queued tasks go back in queue order; each keeps its place (a put-back task sorts by its old position).
    // One queued after its lane's cold tasks waits behind them, as it did.
    queued.sort((a, b) => a.queueSeq - b.queueSeq);
    for (const task of queued) {
      if (this.cold?.isBehind(task)) this.cold.addBehind(task);
      else this.queues.add(task, false);
      this.backlogBytes += task.argsBytes;
    }
    finished.sort((a, b) => a.finishSeq - b.finishSeq);
    for (const task of finished) this.retained.push(task, task.finishSeq);
    if (cold === undefined) return { running, scheduled, maxOrder, tasks };
    this.queueSeq = Math.max(this.queueSeq, cold.maxQueueSeq);
    for (const { name, priority } of coldLanes) this.topUp(name, priority);
    return { running, scheduled, maxOrder: Math.max(maxOrder, cold.maxOrder), tasks: tasks + cold.orders.length };
  }
}

const RESOLVED = Promise.resolve();
const NOTHING = (): void => undefined;
/** The longest a dispatch waits to be written when nothing else changes its task. */
const LAZY_WRITE_MS = 100;

