import type { Attributes, HrTime } from "@opentelemetry/api";
import type { CollectionResult, DataPoint, Histogram, MetricData, MetricProducer } from "@opentelemetry/sdk-metrics";
import { AttemptOutcome, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { priorityName } from "../../common/priority.js";
import { taskStateName } from "../../common/task-state.js";
import { INSTRUMENTATION_SCOPE } from "../../common/tracing-attributes.js";
import { VERSION } from "../../common/version.js";
import type { ControlPlaneEvents } from "../engine/events.js";
import type { AttemptRecord, TaskRecord } from "../store/task-record.js";
import { waitingSince } from "../engine/waiting-since.js";
import { DURATION_BUCKETS_SECONDS, HistogramCell } from "./histogram-cell.js";

/** Distinct task names given their own series; later names share "_other" (clients choose names). */
export const MAX_TASK_NAMES = 256;
const OTHER = "_other";

/** The series of one task name, indexed by wire enum values so the hot path never builds a string. */
class NameSeries {
  /** Queue wait by priority. */
  readonly wait: (HistogramCell | undefined)[] = [];
  /** Run time by attempt outcome. */
  readonly run: (HistogramCell | undefined)[] = [];
  /** Finished tasks by final state. */
  readonly finished: number[] = [];

  constructor(readonly name: string) {}
}

/**
 * The control plane's per-task metrics, counted from its events
 * (task.dispatched, task.retrying, task.finished, attempt.lost) and handed to
 * OpenTelemetry metric readers as a MetricProducer, so the same series reach
 * /metrics and any OTLP exporter. Recording allocates nothing after a task
 * name's first event: counts live in plain arrays and {@link HistogramCell}s.
 *
 * - `fastworker_queue_wait_seconds{task,priority}`: submission (or previous attempt's end) → dispatch
 * - `fastworker_task_run_seconds{task,outcome}`: dispatch → result, for attempts that ended in a result or were lost
 * - `fastworker_tasks_finished{task,state}`: tasks that reached succeeded, failed or cancelled
 * - `fastworker_dispatches`: attempts sent to workers
 * - `fastworker_attempts_lost`: attempts given up on (worker lost, unacknowledged) and re-queued
 */
export class TaskMetrics implements MetricProducer {
  private readonly byName = new Map<string, NameSeries>();
  private dispatches = 0;
  private lost = 0;
  private readonly startTime: HrTime;

  constructor(
    private readonly events: ControlPlaneEvents,
    startedAtMs = Date.now(),
  ) {
    this.startTime = hrTime(startedAtMs);
  }

  start(): void {
    this.events.on("task.dispatched", this.onDispatched);
    this.events.on("task.retrying", this.onRetrying);
    this.events.on("task.finished", this.onFinished);
    this.events.on("attempt.lost", this.onLost);
  }

  stop(): void {
    this.events.off("task.dispatched", this.onDispatched);
    this.events.off("task.retrying", this.onRetrying);
    this.events.off("task.finished", this.onFinished);
    this.events.off("attempt.lost", this.onLost);
  }

  async collect(): Promise<CollectionResult> {
    // Only a reader collects, and readers are the SDK's: it is loaded by then (the imports are cache hits).
    // The API too, which the control plane does not load before (ValueType is a value, not only a type).
    const [{ AggregationTemporality, DataPointType }, { emptyResource }, { ValueType }] = await Promise.all([
      import("@opentelemetry/sdk-metrics"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/api"),
    ]);
    const histogram = (name: string, description: string, dataPoints: DataPoint<Histogram>[]): MetricData => ({
      descriptor: { name, description, unit: "s", valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints,
    });
    const sum = (name: string, description: string, dataPoints: DataPoint<number>[]): MetricData => ({
      descriptor: { name, description, unit: "", valueType: ValueType.INT },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints,
    });
    const endTime = hrTime(Date.now());
    const point = <T>(attributes: Attributes, value: T): DataPoint<T> => ({ startTime: this.startTime, endTime, attributes, value });
    const waits: DataPoint<Histogram>[] = [];
    const runs: DataPoint<Histogram>[] = [];
    const finished: DataPoint<number>[] = [];
    for (const series of this.byName.values()) {
      const task = series.name;
      series.wait.forEach((cell, priority) => cell && waits.push(point({ task, priority: priorityName(priority) }, cell.snapshot())));
      series.run.forEach((cell, outcome) => cell && runs.push(point({ task, outcome: outcomeName(outcome) }, cell.snapshot())));
      series.finished.forEach((n, state) => n && finished.push(point({ task, state: taskStateName(state) }, n)));
    }
    const metrics: MetricData[] = [
      histogram("fastworker_queue_wait_seconds", "Time tasks waited for a worker: from submission, or the end of the previous attempt, to dispatch.", waits),
      histogram("fastworker_task_run_seconds", "Time from an attempt's dispatch to its result, by outcome (lost attempts are counted, not timed).", runs),
      sum("fastworker_tasks_finished", "Tasks that reached a final state.", finished),
      sum("fastworker_dispatches", "Attempts dispatched to workers.", [point({}, this.dispatches)]),
      sum("fastworker_attempts_lost", "Attempts given up on (worker lost or assignment unacknowledged) and queued again.", [point({}, this.lost)]),
    ];
    return {
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: INSTRUMENTATION_SCOPE, version: VERSION }, metrics }] },
      errors: [],
    };
  }

  private readonly onDispatched = (task: TaskRecord, attempt: AttemptRecord): void => {
    this.dispatches++;
    const wait = this.series(task.name).wait;
    (wait[task.priority] ??= new HistogramCell(DURATION_BUCKETS_SECONDS)).record((attempt.dispatchedAt - waitingSince(task, attempt)) / 1000);
  };

  private readonly onRetrying = (task: TaskRecord, attempt: AttemptRecord): void => {
    this.recordRun(task, attempt);
  };

  private readonly onFinished = (task: TaskRecord): void => {
    const series = this.series(task.name);
    series.finished[task.state] = (series.finished[task.state] ?? 0) + 1;
    // A cancelled task's running attempt reports later (or never); earlier failed attempts were counted when they were retried.
    const attempt = task.currentAttempt;
    if (task.state !== TaskState.CANCELLED && attempt !== undefined) this.recordRun(task, attempt);
  };

  private readonly onLost = (): void => {
    this.lost++;
  };

  private recordRun(task: TaskRecord, attempt: AttemptRecord): void {
    if (attempt.finishedAt === 0 || attempt.outcome === AttemptOutcome.UNSPECIFIED) return;
    const run = this.series(task.name).run;
    (run[attempt.outcome] ??= new HistogramCell(DURATION_BUCKETS_SECONDS)).record((attempt.finishedAt - attempt.dispatchedAt) / 1000);
  }

  private series(name: string): NameSeries {
    let series = this.byName.get(name);
    if (series === undefined) {
      const key = this.byName.size < MAX_TASK_NAMES ? name : OTHER;
      series = this.byName.get(key) ?? new NameSeries(key);
      this.byName.set(key, series);
    }
    return series;
  }
}

function outcomeName(outcome: AttemptOutcome): string {
  return (AttemptOutcome[outcome] ?? "unspecified").toLowerCase();
}

/** Milliseconds since the epoch as an OpenTelemetry HrTime. */
function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
