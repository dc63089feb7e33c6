import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import type { BenchOptions, ScalingOptions } from "../cli-options.js";
import type { Environment } from "../environment.js";
import { runStamp, SCALING_SCHEMA, writeResults, type ScalingResultsFile } from "../results-file.js";
import { SYSTEM_KINDS } from "../systems/catalogue.js";
import type { System, SystemName } from "../systems/system.js";
import { runPoint, type PointRecord } from "./point-runner.js";
import { sweepChart } from "./sweep-charts.js";
import { componentsByPoint, componentTable, summarizeSweep, sweepTable, type SweepResult } from "./sweep-summary.js";

/** What the sweeps need from main.ts. */
export interface SweepRun {
  options: BenchOptions & { scaling: ScalingOptions };
  systems: Map<SystemName, System>;
  environment: Environment;
  startedAt: string;
  log(line: string): void;
}

/**
 * Runs the sweeps (`--scaling`): every point of every sweep on the selected
 * systems that have a peer for it, the repeats alternating the systems'
 * order; then prints a table per sweep, writes the results file and a chart
 * per sweep next to it, and (full runs only) copies each chart to its stable
 * name, bench/results/scaling-<sweep>.svg, which bench/README.md shows.
 * Answers the exit code.
 */
export async function runSweeps(run: SweepRun): Promise<number> {
  const { options, log } = run;
  const { sweeps, sizes } = options.scaling;
  const profileRoot = resolve(options.outDir, "profiles", `scaling-${runStamp(run.startedAt)}`);
  const results: SweepResult[] = [];
  const errors: string[] = [];
  for (const sweep of sweeps) {
    const names = options.systems.filter((s) => sweep.kinds.includes(SYSTEM_KINDS[s]));
    if (names.length === 0) {
      log(`\n[${sweep.id}] skipped: runs on ${sweep.kinds.join(", ")} systems only (see --system)`);
      continue;
    }
    log(`\n[${sweep.id}] ${sweep.title}`);
    const runs: PointRecord[] = [];
    for (const x of sizes.points[sweep.id]) {
      const shape = sweep.shape(x, sizes);
      log(`  ${sweep.variable} = ${sweep.format(x)}: ${shape.connections} worker connection(s) in ${shape.workerProcesses} process(es), ${shape.sessions} session(s) in ${shape.producers} producer(s), window ${shape.window}, batches of ${shape.chunk}`);
      for (let repeat = 1; repeat <= options.repeats; repeat++) {
        // Alternate the order of the systems, so slow drift on a shared machine hits them alike.
        const order = repeat % 2 === 1 ? names : [...names].reverse();
        for (const name of order) {
          const profiled = (sweep.profiled || options.profile) && repeat === 1;
          const profileDir = profiled ? join(profileRoot, sweep.id, String(x)) : undefined;
          const t0 = performance.now();
          const record = await runPoint({ sweep, x, system: run.systems.get(name)!, sizes, repeat, profileDir, log });
          runs.push(record);
          const took = ((performance.now() - t0) / 1000).toFixed(1);
          if (record.error !== undefined) {
            errors.push(`${sweep.id}/${sweep.format(x)}/${name}/#${repeat}: ${record.error}`);
            log(`    #${repeat} ${name}: FAILED after ${took}s: ${record.error.split("\n")[0]}`);
          } else {
            const m = record.metrics;
            log(`    #${repeat} ${name}: done: max ${m.maxTasksPerSecond}/s; at ${m.pacedRate}/s p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms; broker ${m.brokerCpuUsPerTask} µs/task (${took}s)`);
          }
        }
      }
    }
    results.push(summarizeSweep(sweep, sizes.points[sweep.id], runs));
  }
  if (results.length === 0) errors.push(`no sweep of ${sweeps.map((s) => s.id).join(", ")} runs on ${options.systems.join(", ")}`);

  const file: ScalingResultsFile = {
    schema: SCALING_SCHEMA,
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    quick: options.quick,
    repeats: options.repeats,
    argv: options.argv,
    systems: options.systems,
    systemDescriptions: Object.fromEntries([...run.systems].map(([name, system]) => [name, system.description])),
    environment: run.environment,
    sizes,
    sweeps: results,
    errors,
  };
  const path = writeResults(options, file);
  const out: string[] = ["", `## Scaling (median of ${options.repeats} run${options.repeats > 1 ? "s" : ""} per point${options.quick ? ", QUICK mode: sizes too small to mean anything" : ""})`];
  const dir = resolve(options.outDir);
  mkdirSync(dir, { recursive: true });
  for (const result of results) {
    const sweep = sweeps.find((s) => s.id === result.id)!;
    const chart = join(dir, `scaling-${runStamp(run.startedAt)}-${sweep.id}.svg`);
    writeFileSync(chart, sweepChart(sweep, result, { environment: run.environment, quick: options.quick, repeats: options.repeats, startedAt: run.startedAt, pacedRate: sizes.pacedRate, pacedShare: sizes.pacedShare, profiled: sweep.profiled || options.profile }));
    // A quick run never replaces the charts the README shows.
    if (!options.quick) copyFileSync(chart, join(dir, `scaling-${sweep.id}.svg`));
    out.push("", `### ${sweep.title}`, "");
    if (sweep.id === "components") {
      const splits = result.summary.find((p) => p.components !== undefined)?.components;
      out.push(splits === undefined ? "(no profile samples in the measured window)" : componentTable(splits));
    } else {
      out.push(sweepTable(sweep, result), "", `${sweep.bullmq}.`);
      const byPoint = componentsByPoint(sweep, result);
      if (byPoint !== undefined) out.push("", "fw-server CPU µs per task by component (profiled runs; the last two columns are inclusive):", "", byPoint);
    }
    out.push("", `chart: ${chart}`);
  }
  out.push("", `results: ${path}`);
  process.stdout.write(`${out.join("\n")}\n`);
  if (errors.length > 0) log(`\n${errors.length} point(s) failed:\n${errors.join("\n")}`);
  return errors.length > 0 ? 1 : 0;
}
