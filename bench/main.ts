/**
 * fastworker vs BullMQ+Redis benchmark: `npm run bench -- [options]`
 * (see bench/README.md). Runs every scenario on both systems alternately,
 * prints the table of medians and writes the JSON results file.
 */
import { join, resolve } from "node:path";
import { parseOptions, USAGE, type BenchOptions } from "./cli-options.js";
import { describeEnvironment } from "./environment.js";
import { livePids, stopAll } from "./lib/child.js";
import { profileTable, summarizeProfiles, type ProfileSummary } from "./profile/summarize.js";
import { RESULTS_SCHEMA, writeResults, type ResultsFile } from "./results-file.js";
import { runOnce, type RunRecord } from "./runner.js";
import { summarize, tableRows } from "./summary.js";
import { bullmq } from "./systems/bullmq.js";
import { fastworker } from "./systems/fastworker.js";
import { ensureRedisServer } from "./systems/redis-server.js";
import type { System } from "./systems/system.js";
import { breakdownTable, resultTable } from "./table.js";

const SYSTEMS: Record<string, System> = { fastworker, bullmq };
const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(options: BenchOptions): Promise<number> {
  const startedAt = new Date().toISOString();
  const redisVersion = options.systems.includes("bullmq") ? ensureRedisServer() : undefined;
  const environment = describeEnvironment(redisVersion);
  log(`bench: ${options.quick ? "QUICK (smoke) " : ""}node ${environment.node}, ${environment.cores} cores, load ${environment.loadAverage.join(" ")}; redis ${redisVersion ?? "-"}, bullmq ${environment.bullmq}, ioredis ${environment.ioredis}`);
  const profileRoot = options.profile ? resolve(options.outDir, "profiles", startedAt.replace(/[:.]/g, "-")) : undefined;

  const scenarios: ResultsFile["scenarios"] = [];
  const errors: string[] = [];
  for (const scenario of options.scenarios) {
    const systems = options.systems.filter((s) => scenario.systems.includes(s));
    if (systems.length === 0) continue;
    log(`\n[${scenario.id}] ${scenario.title}`);
    const runs: RunRecord[] = [];
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      // Alternate which system goes first, so slow drift on a shared machine hits both alike.
      const order = repeat % 2 === 1 ? systems : [...systems].reverse();
      for (const name of order) {
        const profileDir = profileRoot !== undefined && scenario.id === "throughput" && name === "fastworker" && repeat === 1 ? profileRoot : undefined;
        const t0 = performance.now();
        const record = await runOnce({ scenario, system: SYSTEMS[name]!, sizes: options.sizes, repeat, profileDir, log });
        runs.push(record);
        const took = ((performance.now() - t0) / 1000).toFixed(1);
        if (record.error !== undefined) {
          errors.push(`${scenario.id}/${name}/#${repeat}: ${record.error}`);
          log(`  #${repeat} ${name}: FAILED after ${took}s: ${record.error.split("\n")[0]}`);
        } else {
          log(`  #${repeat} ${name}: ${Object.entries(record.metrics).slice(0, 4).map(([k, v]) => `${k}=${v}`).join(" ")} (${took}s)`);
        }
      }
    }
    scenarios.push({ id: scenario.id, covers: scenario.covers, title: scenario.title, summary: summarize(runs), runs });
  }

  const table = scenarios.flatMap((s) => tableRows(options.scenarios.find((x) => x.id === s.id)!, s.summary));
  const out: string[] = ["", `## Results (median of ${options.repeats} run${options.repeats > 1 ? "s" : ""}${options.quick ? ", QUICK mode: sizes too small to mean anything" : ""})`, "", resultTable(table)];
  const breakdown = scenarios.find((s) => s.id === "breakdown")?.runs.find((r) => r.breakdown !== undefined)?.breakdown;
  if (breakdown !== undefined) {
    out.push("", `## Idle round trip, hop by hop (fastworker, ${breakdown.used} of ${breakdown.samples} samples, ${breakdown.lateWaits} with the wait arriving after the result)`, "", breakdownTable(breakdown));
  }
  let profiles: ProfileSummary[] | undefined;
  if (profileRoot !== undefined) {
    profiles = ["fw-server", "fw-worker", "producer"].flatMap((role) => summarizeProfiles(join(profileRoot, role), role) ?? []);
    out.push("", `## CPU profiles (throughput scenario, fastworker, run 1; files in ${profileRoot})`);
    for (const p of profiles) out.push("", profileTable(p));
  }

  const results: ResultsFile = {
    schema: RESULTS_SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    repeats: options.repeats,
    systems: options.systems,
    sizes: options.sizes,
    environment,
    scenarios,
    table,
    ...(profiles ? { profiles } : {}),
    errors,
  };
  const path = writeResults(options, results);
  out.push("", `results: ${path}`);
  process.stdout.write(`${out.join("\n")}\n`);
  if (errors.length > 0) log(`\n${errors.length} run(s) failed:\n${errors.join("\n")}`);
  return errors.length > 0 ? 1 : 0;
}

let options: BenchOptions | "help";
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  log(`bench: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === "help") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

// Whatever happens, end the processes this harness started (by pid) before exiting.
let interrupted = false;
const onSignal = (signal: NodeJS.Signals): void => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log(`bench: ${signal}; stopping the processes it started`);
  void stopAll(3000).finally(() => process.exit(130));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.on("exit", () => {
  for (const pid of livePids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

main(options).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll(3000);
    process.exit(1);
  },
);
