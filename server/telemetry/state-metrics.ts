import type { BatchObservableResult, Meter, Observable } from "@opentelemetry/api";
import { WorkerState } from "../../gen/fastworker/v1/admin_service_pb.js";
import { PRIORITY_NAMES } from "../../common/priority.js";
import { TASK_STATE_NAMES } from "../../common/task-state.js";
import type { ControlPlane } from "../engine/control-plane.js";

/**
 * Registers the metrics that are read from the control plane's state when a
 * reader collects (a scrape of /metrics, an OTLP export), so they cost
 * nothing per task: the store's counts, the worker registry, and the
 * counters the control plane keeps anyway (StatsCounters).
 *
 * - `fastworker_queue_depth{priority}`: tasks queued now
 * - `fastworker_tasks{state}`: tasks held now by state (final states: results still kept)
 * - `fastworker_workers{state}`: registered workers by state (active, draining, disconnected)
 * - `fastworker_tasks_submitted`, `fastworker_acks`, `fastworker_retries`,
 *   `fastworker_lease_expiries`, `fastworker_late_results`: counters since start
 */
export function observeControlPlane(meter: Meter, plane: ControlPlane): void {
  const gauge = (name: string, description: string) => meter.createObservableGauge(name, { description });
  const counter = (name: string, description: string) => meter.createObservableCounter(name, { description });
  const queueDepth = gauge("fastworker_queue_depth", "Tasks queued now, by priority.");
  const tasks = gauge("fastworker_tasks", "Tasks the control plane holds now, by state (for final states: results still kept).");
  const workers = gauge("fastworker_workers", "Registered workers now, by state: active (taking work), draining, disconnected (may come back).");
  const submitted = counter("fastworker_tasks_submitted", "Tasks accepted (deduplicated submissions excluded).");
  const acks = counter("fastworker_acks", "Assignments workers confirmed receiving: an acknowledgement, or a result that came first.");
  const retries = counter("fastworker_retries", "Attempts that failed and were scheduled again, plus RetryTask calls.");
  const leaseExpiries = counter("fastworker_lease_expiries", "Attempts re-queued because their worker's lease ran out.");
  const lateResults = counter("fastworker_late_results", "Results that arrived for superseded attempts and were ignored.");

  meter.addBatchObservableCallback(
    (result) => {
      const counts = plane.store.counts();
      PRIORITY_NAMES.forEach((priority, i) => result.observe(queueDepth, counts.queued[i + 1] ?? 0, { priority }));
      const queued = counts.queued.reduce((a, b) => a + b, 0);
      const byState = [queued, counts.scheduled, counts.running, counts.succeeded, counts.failed, counts.cancelled];
      TASK_STATE_NAMES.forEach((state, i) => result.observe(tasks, byState[i]!, { state }));
      observeWorkers(result, workers, plane);
      const stats = plane.stats;
      result.observe(submitted, stats.submitted);
      result.observe(acks, stats.acked);
      result.observe(retries, stats.retried);
      result.observe(leaseExpiries, stats.leaseExpiries);
      result.observe(lateResults, stats.lateResults);
    },
    [queueDepth, tasks, workers, submitted, acks, retries, leaseExpiries, lateResults],
  );
}

function observeWorkers(result: BatchObservableResult, workers: Observable, plane: ControlPlane): void {
  let active = 0;
  let draining = 0;
  let disconnected = 0;
  for (const worker of plane.workers.live()) {
    if (worker.state === WorkerState.ACTIVE) active++;
    else if (worker.state === WorkerState.DRAINING) draining++;
    else if (worker.state === WorkerState.DISCONNECTED) disconnected++;
  }
  result.observe(workers, active, { state: "active" });
  result.observe(workers, draining, { state: "draining" });
  result.observe(workers, disconnected, { state: "disconnected" });
}
