/**
 * fastworker vs BullMQ+Redis benchmark: `npm run bench -- [options]`
 * (see bench/README.md). Runs every scenario on the chosen systems
 * alternately, prints the table of medians and ratios and writes the JSON
 * results file. With `--scaling` (`npm run bench:scaling`) it runs the
 * scaling sweeps instead (scaling/run-sweeps.ts), on the same processes,
 * systems and services.
 */
import { join, resolve } from "node:path";
import { parseOptions, USAGE, type BenchOptions } from "./cli-options.js";
import { describeEnvironment } from "./environment.js";
import { runFailover } from "./failover-runner.js";
import { livePids, stopAll } from "./lib/child.js";
import { dataRoot } from "./lib/data-root.js";
import { profileTable, summarizeProfiles, type ProfileSummary } from "./profile/summarize.js";
import { RESULTS_SCHEMA, writeResults, type ResultsFile } from "./results-file.js";
import { runOnce, type RunRecord } from "./runner.js";
import { runSweeps } from "./scaling/run-sweeps.js";
import { ratiosFor, summarize, tableRows } from "./summary.js";
import { createSystems, startServices, stopServices, type SharedServices } from "./systems/catalogue.js";
import { breakdownTable, resultTable } from "./table.js";

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(options: BenchOptions): Promise<number> {
  const startedAt = new Date().toISOString();
  const root = dataRoot(options.dataRoot);
  const durable = options.systems.filter((s) => s !== "fastworker" && s !== "bullmq");
  if (durable.length > 0 && root.filesystem === "tmpfs") log(`bench: WARNING: the data root ${root.path} is on tmpfs, where fsync costs nothing: the numbers of ${durable.join(", ")} will flatter them; pass --data-root DIR on a disk`);
  const services = await startServices(options.systems, root);
  try {
    return await measure(options, services, startedAt);
  } finally {
    await stopServices(services);
  }
}

async function measure(options: BenchOptions, services: SharedServices, startedAt: string): Promise<number> {
  const environment = describeEnvironment({
    redis: services.redisVersion,
    postgres: services.postgres === undefined ? undefined : { version: services.postgres.version, settings: services.postgres.settings },
    dataRoot: services.dataRoot,
  });
  const systems = createSystems(options.systems, services);
  log(
    `bench: ${options.quick ? "QUICK (smoke) " : ""}${options.scaling ? `scaling sweeps ${options.scaling.sweeps.map((s) => s.id).join(", ")} on ` : ""}${options.systems.join(", ")}; node ${environment.node}, ${environment.cores} cores, load ${environment.loadAverage.join(" ")}; ` +
      `redis ${environment.redis ?? "-"}, postgres ${environment.postgres?.version ?? "-"}, bullmq ${environment.bullmq}, ioredis ${environment.ioredis}; data root ${services.dataRoot.path} (${services.dataRoot.filesystem})`,
  );
  if (options.scaling !== undefined) return runSweeps({ options: { ...options, scaling: options.scaling }, systems, environment, startedAt, log });
  const profileRoot = options.profile ? resolve(options.outDir, "profiles", startedAt.replace(/[:.]/g, "-")) : undefined;

  const scenarios: ResultsFile["scenarios"] = [];
  const errors: string[] = [];
  for (const scenario of options.scenarios) {
    const names = options.systems.filter((s) => scenario.systems.includes(s));
    if (names.length === 0) {
      log(`\n[${scenario.id}] skipped: runs on ${scenario.systems.join(", ")} only (see --system, --durability)`);
      continue;
    }
    log(`\n[${scenario.id}] ${scenario.title}`);
    const runs: RunRecord[] = [];
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      // Alternate the order of the systems, so slow drift on a shared machine hits them alike.
      const order = repeat % 2 === 1 ? names : [...names].reverse();
      for (const name of order) {
        const profileDir = profileRoot !== undefined && scenario.id === "throughput" && name === "fastworker" && repeat === 1 ? profileRoot : undefined;
        const t0 = performance.now();
        const run = scenario.id === "failover" ? runFailover : runOnce;
        const record = await run({ scenario, system: systems.get(name)!, sizes: options.sizes, repeat, profileDir, log });
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

  if (scenarios.length === 0) errors.push(`no scenario of ${options.scenarios.map((s) => s.id).join(", ")} runs on ${options.systems.join(", ")}`);
  const ratios = ratiosFor(options.systems);
  const table = scenarios.flatMap((s) => tableRows(options.scenarios.find((x) => x.id === s.id)!, s.summary, ratios));
  const out: string[] = ["", `## Results (median of ${options.repeats} run${options.repeats > 1 ? "s" : ""}${options.quick ? ", QUICK mode: sizes too small to mean anything" : ""})`, "", resultTable(table, options.systems, ratios)];
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
    argv: options.argv,
    systems: options.systems,
    systemDescriptions: Object.fromEntries([...systems].map(([name, system]) => [name, system.description])),
    ratios,
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
