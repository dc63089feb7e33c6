import type { Environment } from "../environment.js";
import { barChartSvg, lineChartSvg, PALETTE, type Series } from "../lib/svg-chart.js";
import { COMPONENTS } from "../profile/components.js";
import { SYSTEM_LABELS, SYSTEM_NAMES, type SystemName } from "../systems/system.js";
import type { SweepResult } from "./sweep-summary.js";
import type { Sweep } from "./sweeps.js";

/** A colour per system, the same in every chart. */
const SYSTEM_COLORS: Record<SystemName, string> = {
  fastworker: PALETTE[0],
  "fastworker-durable": PALETTE[2],
  "fastworker-pg": PALETTE[3],
  bullmq: PALETTE[1],
  "bullmq-aof": PALETTE[4],
};

/** What a chart says about where its numbers came from. */
export interface ChartContext {
  environment: Environment;
  quick: boolean;
  repeats: number;
  startedAt: string;
  /** The paced load: this rate, or this share of the max when lower. */
  pacedRate: number;
  pacedShare: number;
  /** Whether fastworker ran with CPU profiles (sampling costs it some CPU). */
  profiled: boolean;
}

function notes(c: ChartContext, result: SweepResult): string[] {
  const e = c.environment;
  const loads = result.runs.map((r) => r.loadAverage[0] ?? Number.NaN).filter((l) => Number.isFinite(l));
  const load = loads.length === 0 ? "" : ` · 1-min load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} at the points' starts`;
  const lines = [
    `fastworker ${e.fastworker} (${e.gitCommit ?? "?"}${e.gitDirty ? ", uncommitted changes" : ""}) · Node ${e.node} · Redis ${e.redis ?? "-"} · BullMQ ${e.bullmq} · ${c.startedAt.slice(0, 10)}`,
    `${e.cpuModel}, ${e.cores} cores${load} · median of ${c.repeats} run${c.repeats > 1 ? "s" : ""} per point${c.profiled ? " · fastworker CPU-profiled" : ""}`,
  ];
  if (c.quick) lines.push("QUICK MODE: tiny sizes, half a second per phase; these numbers mean nothing");
  return lines;
}

/** The chart of one sweep: max throughput, p99 under the paced load and broker CPU per task against the variable; for `components`, the split by component. */
export function sweepChart(sweep: Sweep, result: SweepResult, context: ChartContext): string {
  if (sweep.id === "components") return componentsChart(result, context);
  const systems = SYSTEM_NAMES.filter((s) => result.summary.some((p) => p.system === s));
  const series = (metric: string): Series[] =>
    systems.map((system) => ({
      label: SYSTEM_LABELS[system],
      color: SYSTEM_COLORS[system],
      points: result.points.map((x) => ({ x, y: result.summary.find((p) => p.x === x && p.system === system)?.medians[metric] ?? Number.NaN })),
    }));
  // Where profiles were taken: fw-server's dispatch round per task (the dispatcher's cost as the variable grows).
  const dispatch = result.summary.filter((p) => p.components?.some((s) => s.role === "fw-server"));
  const dispatchPanel =
    dispatch.length < 2
      ? []
      : [
          {
            title: "fw-server dispatch round, CPU µs per task (Dispatcher.runOnce, inclusive; CPU profiles)",
            series: [
              {
                label: SYSTEM_LABELS.fastworker,
                color: SYSTEM_COLORS.fastworker,
                points: result.points.map((x) => ({ x, y: dispatch.find((p) => p.x === x && p.system === "fastworker")?.components?.find((s) => s.role === "fw-server")?.inclusiveUsPerTask.dispatchRound ?? Number.NaN })),
              },
            ],
          },
        ];
  const share = context.pacedShare === 0.5 ? "half" : `${Math.round(context.pacedShare * 100)}% of`;
  const paced = `${context.pacedRate.toLocaleString("en")} tasks/s, or ${share} the max when lower`;
  return lineChartSvg({
    title: `Scaling: ${sweep.title}`,
    notes: notes(context, result),
    xLabel: sweep.variable,
    xLog: result.points.length > 1 && Math.max(...result.points) / Math.min(...result.points) >= 10,
    xTicks: result.points.map((x) => ({ value: x, label: sweep.format(x) })),
    panels: [
      { title: "max throughput, tasks/s (closed loop)", series: series("maxTasksPerSecond") },
      { title: `p99 submit → result, ms (steady load: ${paced})`, series: series("p99Ms") },
      { title: "broker CPU per task, µs (fw-server / redis-server)", series: series("brokerCpuUsPerTask") },
      ...dispatchPanel,
    ],
  });
}

function componentsChart(result: SweepResult, context: ChartContext): string {
  const splits = result.summary.find((p) => p.components !== undefined)?.components ?? [];
  return barChartSvg({
    title: "fastworker: CPU per task by component (baseline point, closed loop)",
    notes: notes(context, result),
    unit: "CPU µs per task",
    keys: COMPONENTS.map((c, i) => ({ label: c, color: PALETTE[i % PALETTE.length]! })),
    bars: splits.map((s) => ({ label: s.role, values: COMPONENTS.map((c) => s.usPerTask[c]) })),
  });
}
