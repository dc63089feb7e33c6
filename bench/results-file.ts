import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BenchOptions } from "./cli-options.js";
import type { Environment } from "./environment.js";
import type { ProfileSummary } from "./profile/summarize.js";
import type { RunRecord } from "./runner.js";
import type { ScalingSizes } from "./scaling/sweeps.js";
import type { SweepResult } from "./scaling/sweep-summary.js";
import type { Scenario, Sizes } from "./scenarios.js";
import type { RatioSpec, SystemSummary, TableRow } from "./summary.js";
import type { SystemName } from "./systems/system.js";

/** Version 2: five systems (deployment variants), `values` and `ratios` per table row, the data root and PostgreSQL. */
export const RESULTS_SCHEMA = "fastworker-bench/2";
/** The scaling sweeps' file (`npm run bench:scaling`): the same envelope, sweeps instead of scenarios. */
export const SCALING_SCHEMA = "fastworker-bench-scaling/1";

/** What every results file records about its run. */
export interface RunEnvelope {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  repeats: number;
  /** The command line as given. */
  argv: string[];
  systems: SystemName[];
  /** What each system deployed, in one line. */
  systemDescriptions: Partial<Record<SystemName, string>>;
  environment: Environment;
  /** Runs that failed (their error is in their record too). */
  errors: string[];
}

/** The JSON file a bench run writes (bench/results/bench-<time>.json). */
export interface ResultsFile extends RunEnvelope {
  schema: typeof RESULTS_SCHEMA;
  /** The ratio columns of the table. */
  ratios: RatioSpec[];
  sizes: Sizes;
  scenarios: {
    id: Scenario["id"];
    covers: string;
    title: string;
    summary: Partial<Record<SystemName, SystemSummary>>;
    runs: RunRecord[];
  }[];
  /** The printed table, as data. */
  table: TableRow[];
  profiles?: ProfileSummary[];
}

/** The JSON file a scaling run writes (bench/results/scaling-<time>.json). */
export interface ScalingResultsFile extends RunEnvelope {
  schema: typeof SCALING_SCHEMA;
  /** The load averages when the last point ended (each point's own start is in its record: `runs[].loadAverage`). */
  loadAverageAtEnd: number[];
  sizes: ScalingSizes;
  sweeps: SweepResult[];
}

/** The part of a results file's name after its kind: the start time, safe in a file name. */
export function runStamp(startedAt: string): string {
  return startedAt.replace(/[:.]/g, "-");
}

/** Writes the results file (bench-<time>.json or scaling-<time>.json) and answers its path. */
export function writeResults(options: Pick<BenchOptions, "outDir">, results: ResultsFile | ScalingResultsFile): string {
  const dir = resolve(options.outDir);
  mkdirSync(dir, { recursive: true });
  const kind = results.schema === SCALING_SCHEMA ? "scaling" : "bench";
  const path = join(dir, `${kind}-${runStamp(results.startedAt)}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
