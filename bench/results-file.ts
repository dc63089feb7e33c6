import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BenchOptions } from "./cli-options.js";
import type { Environment } from "./environment.js";
import type { ProfileSummary } from "./profile/summarize.js";
import type { RunRecord } from "./runner.js";
import type { Scenario, Sizes } from "./scenarios.js";
import type { RatioSpec, SystemSummary, TableRow } from "./summary.js";
import type { SystemName } from "./systems/system.js";

/** Version 2: five systems (deployment variants), `values` and `ratios` per table row, the data root and PostgreSQL. */
export const RESULTS_SCHEMA = "fastworker-bench/2";

/** The JSON file a bench run writes (bench/results/bench-<time>.json). */
export interface ResultsFile {
  schema: typeof RESULTS_SCHEMA;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  repeats: number;
  /** The command line as given. */
  argv: string[];
  systems: SystemName[];
  /** What each system deployed, in one line. */
  systemDescriptions: Partial<Record<SystemName, string>>;
  /** The ratio columns of the table. */
  ratios: RatioSpec[];
  sizes: Sizes;
  environment: Environment;
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
  /** Runs that failed (their error is in their record too). */
  errors: string[];
}

/** Writes the results file and answers its path. */
export function writeResults(options: Pick<BenchOptions, "outDir">, results: ResultsFile): string {
  const dir = resolve(options.outDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `bench-${results.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
