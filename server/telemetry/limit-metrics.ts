import type { Meter } from "@opentelemetry/api";
import type { ControlPlane } from "../engine/control-plane.js";

/**
 * Flow-limit and schedule metrics, read when a reader collects (nothing per
 * task):
 *
 * - `fastworker_limit_running{task}`: tasks of a limited name running now
 * - `fastworker_limit_waiting{task}`: queued tasks held back by its limit
 * - `fastworker_limit_concurrency{task}`: the concurrency limit in force
 * - `fastworker_schedule_runs{schedule}`, `fastworker_schedule_skipped{schedule}`:
 *   tasks submitted by ticks, and ticks skipped (overlap, misfire), since the schedule was made
 */
export function observeLimits(meter: Meter, plane: ControlPlane): void {
  const running = meter.createObservableGauge("fastworker_limit_running", { description: "Tasks of a flow-limited task name running now." });
  const waiting = meter.createObservableGauge("fastworker_limit_waiting", { description: "Queued tasks held back by their task name's flow limit (concurrency or rate)." });
  const concurrency = meter.createObservableGauge("fastworker_limit_concurrency", { description: "The concurrency limit in force per task name (per key value for keyed limits)." });
  const runs = meter.createObservableCounter("fastworker_schedule_runs", { description: "Tasks a schedule's ticks submitted." });
  const skipped = meter.createObservableCounter("fastworker_schedule_skipped", { description: "Ticks a schedule skipped (overlap policy, misfire policy skip, or missed)." });
  meter.addBatchObservableCallback(
    (result) => {
      const now = Date.now();
      for (const state of plane.limits.list(now)) {
        if (state.effective === undefined) continue;
        result.observe(running, state.running, { task: state.name });
        result.observe(waiting, state.waiting, { task: state.name });
        if (state.effective.concurrency !== undefined) result.observe(concurrency, state.effective.concurrency, { task: state.name });
      }
      for (const entry of plane.schedules.list()) {
        result.observe(runs, entry.runsTotal, { schedule: entry.spec.id });
        result.observe(skipped, entry.skippedTotal, { schedule: entry.spec.id });
      }
    },
    [running, waiting, concurrency, runs, skipped],
  );
}
