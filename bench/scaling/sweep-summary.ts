import { median, round } from "../lib/stats.js";
import { COMPONENTS, COMPONENT_NOTES, INCLUSIVE, type ComponentSplit, type InclusiveId } from "../profile/components.js";
import { SYSTEM_LABELS, SYSTEM_NAMES, type SystemName } from "../systems/system.js";
import { fmt, render } from "../table.js";
import type { PointRecord } from "./point-runner.js";
import type { Sweep } from "./sweeps.js";

/** The medians of one point on one system over its successful repeats. */
export interface PointSummary {
  x: number;
  system: SystemName;
  runs: number;
  failed: number;
  medians: Record<string, number>;
  /** From the first profiled run of the point, if any. */
  components?: ComponentSplit[];
  /** The highest 1-minute load average at the start of its runs. */
  maxLoad1m: number;
}

/** One sweep in the results file: what was swept, the medians per point and system, and every run. */
export interface SweepResult {
  id: Sweep["id"];
  title: string;
  variable: string;
  bullmq: string;
  points: number[];
  summary: PointSummary[];
  runs: PointRecord[];
}

/** Medians per point and system, in point order then table order of the systems. */
export function summarizeSweep(sweep: Sweep, points: readonly number[], runs: readonly PointRecord[]): SweepResult {
  const summary: PointSummary[] = [];
  for (const x of points) {
    for (const system of SYSTEM_NAMES) {
      const mine = runs.filter((r) => r.x === x && r.system === system);
      if (mine.length === 0) continue;
      const ok = mine.filter((r) => r.error === undefined);
      const medians: Record<string, number> = {};
      for (const key of new Set(ok.flatMap((r) => Object.keys(r.metrics)))) {
        medians[key] = round(median(ok.map((r) => r.metrics[key]!).filter((v) => Number.isFinite(v))), 3);
      }
      const components = ok.find((r) => r.components !== undefined)?.components;
      const maxLoad1m = Math.max(...mine.map((r) => r.loadAverage[0] ?? Number.NaN));
      summary.push({ x, system, runs: ok.length, failed: mine.length - ok.length, medians, maxLoad1m, ...(components ? { components } : {}) });
    }
  }
  return { id: sweep.id, title: sweep.title, variable: sweep.variable, bullmq: sweep.bullmq, points: [...points], summary, runs: [...runs] };
}

/**
 * A sweep's table: a row per point and system. "broker" is fw-server or
 * redis-server; CPU is per task over the closed loop (µs per task = ms per
 * 1,000 tasks, the unit of the main table's CPU figures). A paced load that
 * did not keep up shows "done of asked ⚠". "load" is the highest 1-minute
 * load average at the start of the point's runs.
 */
export function sweepTable(sweep: Sweep, result: SweepResult): string {
  const header = [sweep.variable, "system", "max tasks/s", "÷ BullMQ", "paced tasks/s", "p50 ms", "p99 ms", "broker µs/task", "workers µs/task", "producers µs/task", "broker RSS MiB", "load"];
  const rows = result.summary.map((p) => {
    const m = p.medians;
    const bullmq = result.summary.find((q) => q.x === p.x && q.system === "bullmq")?.medians.maxTasksPerSecond;
    const ratio = p.system !== "bullmq" && bullmq !== undefined && bullmq > 0 && m.maxTasksPerSecond !== undefined ? `${(m.maxTasksPerSecond / bullmq).toFixed(2)}×` : "—";
    const label = p.failed > 0 ? `${SYSTEM_LABELS[p.system]} (${p.failed} failed)` : SYSTEM_LABELS[p.system];
    return [
      sweep.format(p.x),
      label,
      fmt(m.maxTasksPerSecond),
      ratio,
      // A paced load that fell behind (done < 90% of asked): its latencies include the queue that built up.
      m.pacedTasksPerSecond !== undefined && m.pacedRate !== undefined && m.pacedTasksPerSecond < 0.9 * m.pacedRate ? `${fmt(m.pacedTasksPerSecond)} of ${fmt(m.pacedRate)} ⚠` : fmt(m.pacedTasksPerSecond),
      fmt(m.p50Ms),
      fmt(m.p99Ms),
      fmt(m.brokerCpuUsPerTask),
      fmt(m.workersCpuUsPerTask),
      fmt(m.producersCpuUsPerTask),
      fmt(m.brokerRssMB),
      fmt(p.maxLoad1m),
    ];
  });
  return render(header, rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
}

const INCLUSIVE_IDS = Object.keys(INCLUSIVE) as InclusiveId[];
/** Column headers of the inclusive measures. */
export const INCLUSIVE_LABELS: Record<InclusiveId, string> = { dispatchRound: "dispatch round (incl.)", queueTake: "queue take (incl.)" };

/** CPU µs per task by component: a row per component, a column per role (with its share). */
export function componentTable(splits: readonly ComponentSplit[]): string {
  const header = ["component", ...splits.map((s) => `${s.role} µs/task`), "what"];
  const rows = COMPONENTS.map((c) => [c, ...splits.map((s) => `${fmt(s.usPerTask[c])} (${Math.round(s.shares[c] * 100)}%)`), COMPONENT_NOTES[c]]);
  rows.push(["**total**", ...splits.map((s) => `**${fmt(s.cpuUsPerTask)}**`), "CPU per task from /proc over the closed loop, split by the profile's busy samples"]);
  rows.push(["dispatch round", ...splits.map((s) => (s.role === "fw-server" ? fmt(s.inclusiveUsPerTask.dispatchRound) : "—")), "of the total, inclusive: Dispatcher.runOnce and all it calls (across the components above)"]);
  rows.push(["queue take", ...splits.map((s) => (s.role === "fw-server" ? fmt(s.inclusiveUsPerTask.queueTake) : "—")), "of the dispatch round, inclusive: Queues.take, finding a worker's next task among its names"]);
  return render(header, rows, new Set(splits.map((_, i) => i + 1)));
}

/** fw-server's split at every profiled point of a sweep: a row per point, a column per component (µs per task). */
export function componentsByPoint(sweep: Sweep, result: SweepResult, role = "fw-server"): string | undefined {
  const rows = result.summary
    .map((p) => ({ p, split: p.components?.find((s) => s.role === role) }))
    .filter((r): r is { p: PointSummary; split: ComponentSplit } => r.split !== undefined)
    .map(({ p, split }) => [sweep.format(p.x), ...COMPONENTS.map((c) => fmt(split.usPerTask[c])), fmt(split.cpuUsPerTask), ...INCLUSIVE_IDS.map((f) => fmt(split.inclusiveUsPerTask[f]))]);
  if (rows.length === 0) return undefined;
  const header = [sweep.variable, ...COMPONENTS, "total", ...INCLUSIVE_IDS.map((f) => INCLUSIVE_LABELS[f])];
  return render(header, rows, new Set(Array.from({ length: header.length - 1 }, (_, i) => i + 1)));
}
