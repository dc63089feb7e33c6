/**
 * What the harness and a producer process say to each other over Node's IPC
 * channel. The producer is a separate OS process, as an application would be.
 */

/**
 * The two producer protocols. Deployment variants (in memory, durable,
 * PostgreSQL; Redis with or without AOF) share them: a producer only needs
 * to know whether it talks to fastworker or to BullMQ (bench/systems/catalogue.ts).
 */
export type SystemKind = "fastworker" | "bullmq";

/** Where a fastworker producer submits. */
export interface FastworkerTarget {
  system: "fastworker";
  /** host:port of fw-server's gRPC port; a group of control planes: their addresses, comma-separated. */
  server: string;
}

/** Where a BullMQ producer adds jobs, and the queue settings it creates the queue with. */
export interface BullmqTarget {
  system: "bullmq";
  host: string;
  port: number;
  queue: string;
  /** Queue `streams.events.maxLen` (BullMQ default 10,000). */
  eventsMaxLen: number;
}

export type Target = FastworkerTarget | BullmqTarget;

/** Submit N tasks and wait for all outcomes; `submit` says how the app submits. */
export interface ThroughputWorkload {
  kind: "throughput";
  tasks: number;
  /** Tasks run through the same path before the clock starts (JIT, connections, pools). */
  warmup: number;
  /** batched: chunks of `chunk` tasks (Promise.all over submit() / addBulk), `inflightChunks` at once; per-submit: one call per task from `submitters` concurrent app loops. */
  submit: "batched" | "per-submit";
  chunk: number;
  inflightChunks: number;
  submitters: number;
}

/** Sequential round trips on an idle system: submit one task, wait for its result, repeat. */
export interface LatencyWorkload {
  kind: "latency";
  samples: number;
  warmup: number;
  /** Tasks run first as a batched burst (`chunk` per batch, `inflightChunks` outstanding), not measured. */
  burst: number;
  chunk: number;
  inflightChunks: number;
}

/** Queue N tasks while no worker runs, say so, then wait for all outcomes once workers start. */
export interface BacklogWorkload {
  kind: "backlog";
  tasks: number;
  chunk: number;
  inflightChunks: number;
}

/** fastworker only: sequential round trips of a task that returns when its handler ran, for the hop breakdown. */
export interface BreakdownWorkload {
  kind: "breakdown";
  samples: number;
  warmup: number;
  /** Tasks run first as a burst of `chunk`-task batches, not measured (see LatencyWorkload). */
  burst: number;
  chunk: number;
}

/**
 * fastworker on PostgreSQL only: submit at a steady `rate` to a group of
 * control planes (the Client follows the leader), ask the harness to kill the
 * leader once `killAfter` were acknowledged, keep submitting through the
 * failover (`tasks` in all, more if the new leader has not acknowledged one
 * by then), then check every acknowledged id on `verifyServer` (the new
 * leader).
 */
export interface FailoverWorkload {
  kind: "failover";
  tasks: number;
  /** Submissions per second, steady (sent on a 10 ms timer). */
  rate: number;
  /** Acknowledgements before the producer sends the "failover-kill" mark. */
  killAfter: number;
  /** The control plane that leads after the kill: the check runs against it alone. */
  verifyServer: string;
}

/**
 * Scaling sweeps: this producer process is one of several that the harness
 * starts together and steps through the phases ({@link StepMessage}). It
 * opens `sessions` sessions, warms up for `warmupSeconds` (then sends the
 * "warm" mark), and on each step runs it and answers a {@link StepReport}.
 * Task k goes to name k mod `names`, with args of `payloadBytes` bytes of
 * JSON; the handler answers its args, so the result is as large.
 */
export interface ScalingWorkload {
  kind: "scaling";
  /** fastworker: `Client`s, each its own connection and Session stream; BullMQ: `Queue` instances. */
  sessions: number;
  names: number;
  payloadBytes: number;
  /** Tasks submitted together on one session (one message; one addBulk). */
  chunk: number;
  /** The closed loop's bound: tasks of this process not yet finished, at most. */
  window: number;
  warmupSeconds: number;
}

export type Workload = ThroughputWorkload | LatencyWorkload | BacklogWorkload | BreakdownWorkload | FailoverWorkload | ScalingWorkload;

/** harness → producer */
export interface RunMessage {
  type: "run";
  target: Target;
  workload: Workload;
  /** Bound on any single wait inside the producer. */
  timeoutMs: number;
}

/**
 * harness → producer, scaling sweeps only, after the "warm" mark: `max` runs
 * the closed loop for `seconds` (as fast as the system goes, `window` tasks
 * outstanding); `paced` submits `rate` tasks per second for `seconds` and
 * times each; `finish` closes the sessions and sends the final report.
 */
export type StepMessage =
  | { type: "step"; step: "max"; seconds: number }
  | { type: "step"; step: "paced"; seconds: number; rate: number }
  | { type: "step"; step: "finish" };

export type Mark = "measure-start" | "measure-end" | "backlog-queued" | "failover-kill" | "warm";

export interface ThroughputReport {
  kind: "throughput";
  tasks: number;
  /** From the first submit call until every submission was accepted. */
  submitSeconds: number;
  /** From the first submit call until the last outcome reached the producer. */
  totalSeconds: number;
  tasksPerSecond: number;
  submittedPerSecond: number;
}

export interface LatencyReport {
  kind: "latency";
  /** Round trips in milliseconds, in the order they ran. */
  samplesMs: number[];
}

export interface BacklogReport {
  kind: "backlog";
  tasks: number;
  /** Time to queue the backlog. */
  submitSeconds: number;
  /** From the first to the last outcome the producer saw (excludes worker start-up). */
  drainSeconds: number;
  tasksPerSecond: number;
  /** Outcomes per second, second by second from the first one. */
  timeline: number[];
}

/** One breakdown sample: wall-clock times (ms since the epoch, sub-ms precision) seen by the producer and the handler. */
export interface BreakdownSample {
  id: string;
  /** submit() called. */
  call: number;
  /** submit() resolved (the id is known). */
  accepted: number;
  /** The handler started, on the worker. */
  handler: number;
  /** result() resolved. */
  result: number;
}

export interface BreakdownReport {
  kind: "breakdown";
  samples: BreakdownSample[];
}

/** What the failover producer saw. Times are wall-clock ms ({@link wallNow}), comparable with the harness's. */
export interface FailoverReport {
  kind: "failover";
  /** Submissions made: `tasks`, or more if the failover outlasted them. */
  submitted: number;
  /** Submissions acknowledged (by either control plane). */
  acked: number;
  /** Submissions refused (e.g. UNAVAILABLE while no control plane led): never acknowledged, so not lost. */
  refused: number;
  /** How many refusals gave each code and message (the first few distinct ones). */
  refusals: Record<string, number>;
  /** When the producer sent the "failover-kill" mark. */
  killMarkAt: number;
  /** Acknowledgements issued by the old leader that reached the producer after the kill mark (in flight). */
  oldLeaderAcksAfterMark: number;
  /** When the first acknowledgement issued by the new leader reached the producer; null if none did (IPC is JSON: no NaN). */
  firstNewLeaderAckAt: number | null;
  /** Acknowledged ids the new leader does not know: lost tasks (must be none). */
  lost: string[];
  /** Acknowledged ids the new leader knows but that did not succeed within the wait. */
  unfinished: string[];
  /** Submissions per second, acknowledged, before the kill mark. */
  ackedPerSecondBefore: number;
}

/** What one producer did in one step of a scaling point. */
export interface StepReport {
  step: "max" | "paced";
  /** The step's clock: from its first submission for `seconds`. */
  seconds: number;
  /** Outcomes that reached the producer within those seconds. */
  completedInWindow: number;
  /** Every task of the step (the closed loop's last window and late paced ones finish after the clock). */
  completed: number;
  /** paced: the rate asked for (tasks/s), and what was submitted. */
  rate?: number;
  submitted?: number;
  /** paced: submissions skipped because too many were unfinished (the rate was not sustainable). */
  skipped?: number;
  /** paced: submit call → result, ms, every task. */
  latencyMs?: number[];
  /** paced: how late each tick's submissions went out against the schedule, ms (a busy producer delays them). */
  lagMs?: number[];
}

export interface ScalingReport {
  kind: "scaling";
  sessions: number;
}

export type ProducerReport = ThroughputReport | LatencyReport | BacklogReport | BreakdownReport | FailoverReport | ScalingReport;

/** producer → harness */
export type ProducerMessage =
  | { type: "ready" }
  | { type: "mark"; mark: Mark }
  | { type: "report"; report: ProducerReport }
  | { type: "step-report"; report: StepReport }
  | { type: "error"; message: string };

/** Wall-clock time in milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
