import { median, round } from "./lib/stats.js";
import type { RunRecord } from "./runner.js";
import type { Scenario } from "./scenarios.js";
import { SYSTEM_NAMES, type SystemName } from "./systems/system.js";

/** A headline metric shown in the table. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  /** Whether a larger number is better (throughput) or a smaller one (latency, memory). */
  better: "higher" | "lower";
}

/** Throughput's rates: one submit call per task (per-submit) or batches, the same two numbers. */
const THROUGHPUT_METRICS: readonly MetricSpec[] = [
  { key: "tasksPerSecond", label: "end-to-end", unit: "tasks/s", better: "higher" },
  { key: "submittedPerSecond", label: "submission", unit: "tasks/s", better: "higher" },
];

/** The metrics shown per scenario, in table order. */
export const TABLE_METRICS: Record<Scenario["id"], readonly MetricSpec[]> = {
  throughput: THROUGHPUT_METRICS,
  "per-submit": THROUGHPUT_METRICS,
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
    { key: "brokerSettledRssMB", label: "broker RSS, backlog queued, settled", unit: "MiB", better: "lower" },
  ],
  workers: [{ key: "tasksPerSecond", label: "end-to-end", unit: "tasks/s", better: "higher" }],
  breakdown: [
    { key: "p50Ms", label: "p50 (instrumented)", unit: "ms", better: "lower" },
    { key: "p99Ms", label: "p99 (instrumented)", unit: "ms", better: "lower" },
  ],
  failover: [
    { key: "leadingMs", label: "kill → standby leading", unit: "ms", better: "lower" },
    { key: "firstAckMs", label: "kill → first ack by new leader", unit: "ms", better: "lower" },
    { key: "lostTasks", label: "acknowledged tasks lost", unit: "tasks", better: "lower" },
    { key: "refusedSubmissions", label: "submissions refused", unit: "tasks", better: "lower" },
  ],
};

/** A ratio the table shows: one system's median divided by another's. */
export interface RatioSpec {
  id: string;
  label: string;
  numerator: SystemName;
  denominator: SystemName;
}

/**
 * The comparisons the issues ask for, in column order: fastworker ÷ BullMQ
 * (issues 1–7), what durability costs fastworker, and each durable store
 * against BullMQ on Redis with AOF (issues 11, 14). A column appears when
 * both of its systems ran.
 */
export const RATIOS: readonly RatioSpec[] = [
  { id: "fastworker/bullmq", label: "fw ÷ BullMQ", numerator: "fastworker", denominator: "bullmq" },
  { id: "durable/in-memory", label: "durable ÷ in-memory", numerator: "fastworker-durable", denominator: "fastworker" },
  { id: "durable/bullmq-aof", label: "durable ÷ BullMQ-AOF", numerator: "fastworker-durable", denominator: "bullmq-aof" },
  { id: "pg/bullmq-aof", label: "PG ÷ BullMQ-AOF", numerator: "fastworker-pg", denominator: "bullmq-aof" },
];

/** The ratios whose two systems are both among `systems`. */
export function ratiosFor(systems: readonly SystemName[]): RatioSpec[] {
  return RATIOS.filter((r) => systems.includes(r.numerator) && systems.includes(r.denominator));
}

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
  /** The median of each system that ran this scenario. */
  values: Partial<Record<SystemName, number>>;
  /** By {@link RatioSpec.id}: numerator's median ÷ denominator's, where both exist. */
  ratios: Record<string, number>;
}

/** Medians per system of one scenario's runs. */
export function summarize(records: readonly RunRecord[]): Partial<Record<SystemName, SystemSummary>> {
  const out: Partial<Record<SystemName, SystemSummary>> = {};
  for (const system of SYSTEM_NAMES) {
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

/** The table rows of one scenario; `ratios` are the columns shown (see {@link ratiosFor}). */
export function tableRows(scenario: Scenario, summary: Partial<Record<SystemName, SystemSummary>>, ratios: readonly RatioSpec[]): TableRow[] {
  return TABLE_METRICS[scenario.id].map((m) => {
    const values: Partial<Record<SystemName, number>> = {};
    for (const system of SYSTEM_NAMES) {
      const value = summary[system]?.medians[m.key];
      if (value !== undefined) values[system] = value;
    }
    const out: Record<string, number> = {};
    for (const r of ratios) {
      const a = values[r.numerator];
      const b = values[r.denominator];
      if (a !== undefined && b !== undefined && b !== 0 && Number.isFinite(a) && Number.isFinite(b)) out[r.id] = round(a / b, 2);
    }
    return { scenario: scenario.id, covers: scenario.covers, metric: m.label, unit: m.unit, better: m.better, values, ratios: out };
  });
}
