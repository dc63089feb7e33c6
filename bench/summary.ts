import { median, round } from "./lib/stats.js";
import type { SystemName } from "./producer/protocol.js";
import type { RunRecord } from "./runner.js";
import type { Scenario } from "./scenarios.js";

/** A headline metric shown in the table. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  /** Whether a larger number is better (throughput) or a smaller one (latency, memory). */
  better: "higher" | "lower";
}

/** The metrics shown per scenario, in table order. */
export const TABLE_METRICS: Record<Scenario["id"], readonly MetricSpec[]> = {
  throughput: [
    { key: "tasksPerSecond", label: "end-to-end", unit: "tasks/s", better: "higher" },
    { key: "submittedPerSecond", label: "submission", unit: "tasks/s", better: "higher" },
  ],
  "per-submit": [
    { key: "tasksPerSecond", label: "end-to-end", unit: "tasks/s", better: "higher" },
    { key: "submittedPerSecond", label: "submission", unit: "tasks/s", better: "higher" },
  ],
  latency: [
    { key: "p50Ms", label: "p50", unit: "ms", better: "lower" },
    { key: "p99Ms", label: "p99", unit: "ms", better: "lower" },
    { key: "p999Ms", label: "p99.9", unit: "ms", better: "lower" },
  ],
  backlog: [
    { key: "drainTasksPerSecond", label: "drain with backlog", unit: "tasks/s", better: "higher" },
    { key: "queuedPerSecond", label: "queueing the backlog", unit: "tasks/s", better: "higher" },
    { key: "brokerIdleRssMB", label: "broker RSS idle", unit: "MiB", better: "lower" },
    { key: "brokerQueuedRssMB", label: "broker RSS, backlog queued", unit: "MiB", better: "lower" },
  ],
  workers: [{ key: "tasksPerSecond", label: "end-to-end", unit: "tasks/s", better: "higher" }],
  breakdown: [
    { key: "p50Ms", label: "p50 (instrumented)", unit: "ms", better: "lower" },
    { key: "p99Ms", label: "p99 (instrumented)", unit: "ms", better: "lower" },
  ],
};

/** Median of every metric over the successful repeats of one scenario on one system. */
export interface SystemSummary {
  runs: number;
  failed: number;
  medians: Record<string, number>;
}

/** One row of the result table. */
export interface TableRow {
  scenario: Scenario["id"];
  covers: string;
  metric: string;
  unit: string;
  better: "higher" | "lower";
  fastworker?: number;
  bullmq?: number;
  /** fastworker ÷ BullMQ. */
  ratio?: number;
}

/** Medians per system of one scenario's runs. */
export function summarize(records: readonly RunRecord[]): Partial<Record<SystemName, SystemSummary>> {
  const out: Partial<Record<SystemName, SystemSummary>> = {};
  for (const system of ["fastworker", "bullmq"] as const) {
    const mine = records.filter((r) => r.system === system);
    if (mine.length === 0) continue;
    const ok = mine.filter((r) => r.error === undefined);
    const keys = new Set(ok.flatMap((r) => Object.keys(r.metrics)));
    const medians: Record<string, number> = {};
    for (const key of keys) medians[key] = round(median(ok.map((r) => r.metrics[key]!).filter((v) => Number.isFinite(v))), 3);
    out[system] = { runs: ok.length, failed: mine.length - ok.length, medians };
  }
  return out;
}

/** The table rows of one scenario. */
export function tableRows(scenario: Scenario, summary: Partial<Record<SystemName, SystemSummary>>): TableRow[] {
  return TABLE_METRICS[scenario.id].map((m) => {
    const fw = summary.fastworker?.medians[m.key];
    const bull = summary.bullmq?.medians[m.key];
    const ratio = fw !== undefined && bull !== undefined && bull !== 0 && Number.isFinite(fw) && Number.isFinite(bull) ? round(fw / bull, 2) : undefined;
    return { scenario: scenario.id, covers: scenario.covers, metric: m.label, unit: m.unit, better: m.better, fastworker: fw, bullmq: bull, ratio };
  });
}
