import { parseArgs } from "node:util";
import { FULL_SCALING_SIZES, QUICK_SCALING_SIZES, SWEEP_IDS, SWEEPS, sweepById, type ScalingSizes, type Sweep } from "./scaling/sweeps.js";
import { FULL_SIZES, QUICK_SIZES, SCENARIOS, scenarioById, type Scenario, type Sizes } from "./scenarios.js";
import { DEFAULT_SYSTEMS, DURABILITY_SYSTEMS } from "./systems/catalogue.js";
import { SYSTEM_NAMES, type SystemName } from "./systems/system.js";

/** Everything `npm run bench -- …` can be told. */
export interface BenchOptions {
  quick: boolean;
  scenarios: Scenario[];
  systems: SystemName[];
  repeats: number;
  sizes: Sizes;
  /** Directory for results JSON (and profiles). */
  outDir: string;
  /** Write CPU profiles of fw-server, fw-worker and the producer during the throughput scenario. */
  profile: boolean;
  /** Where durable systems keep their files (undefined: the OS temp directory). */
  dataRoot: string | undefined;
  /** The command line as given (recorded in the results file). */
  argv: string[];
  /** `--scaling` (npm run bench:scaling): the sweeps to run instead of the scenarios. */
  scaling?: ScalingOptions;
}

/** What `--scaling` runs. */
export interface ScalingOptions {
  sweeps: Sweep[];
  sizes: ScalingSizes;
}

export const USAGE = `npm run bench -- [options]

  --quick                 tiny sizes, 1 repeat: proves the harness works (CI smoke); numbers mean nothing
  --scenario LIST         comma-separated: ${SCENARIOS.map((s) => s.id).join(", ")} (default: all)
  --system LIST           comma-separated: ${SYSTEM_NAMES.join(", ")}
                          (default: ${DEFAULT_SYSTEMS.join(",")}; they alternate within each scenario)
  --durability            all five systems: in memory, durable (LMDB), PostgreSQL, BullMQ, BullMQ with AOF;
                          adds the durability ratios and the failover scenario (not with --system)
  --data-root DIR         where fw-server --data-dir, PostgreSQL and Redis's AOF keep their files
                          (default: the OS temp directory; must not be tmpfs for honest durable numbers)
  --repeats N             runs per scenario and system; the table shows the median (default 3; quick 1)
  --tasks N               tasks per throughput run (default ${FULL_SIZES.tasks})
  --warmup N              unmeasured tasks before each throughput run (default ${FULL_SIZES.warmup})
  --backlog N             tasks queued before workers start (default ${FULL_SIZES.backlog})
  --samples N             round trips in the latency scenarios (default ${FULL_SIZES.samples})
  --latency-burst N       tasks run as one batched burst before the latency scenarios' warm-up, not measured (default ${FULL_SIZES.latencyBurst}; 0 measures the first seconds after start)
  --latency-warmup N      sequential round trips after the burst, not measured (default ${FULL_SIZES.latencyWarmup})
  --workers N             workers in the "workers" scenario (default ${FULL_SIZES.manyWorkers})
  --concurrency N         tasks per worker at once (default ${FULL_SIZES.concurrency})
  --chunk N               tasks per batch in batched submission (default ${FULL_SIZES.chunk})
  --submitters N          concurrent app loops in the per-submit scenario (default ${FULL_SIZES.submitters})
  --failover-tasks N      tasks submitted in a failover run; the leader is killed after a third (default ${FULL_SIZES.failoverTasks})
  --failover-rate N       submissions per second in a failover run (default ${FULL_SIZES.failoverRate})
  --out DIR               where results JSON goes (default bench/results)
  --profile               also write CPU profiles (--cpu-prof) of fastworker's processes in the throughput
                          scenario and print their top self-time functions
  --help

Scaling sweeps (npm run bench:scaling = npm run bench -- --scaling):
  --scaling               run the sweeps instead of the scenarios: at each point a closed loop (max tasks/s),
                          then a steady load (p50/p99 submit → result, see --paced-rate); a table and an SVG
                          chart per sweep (default systems: ${DEFAULT_SYSTEMS.join(",")}; repeats: 1)
  --sweep LIST            comma-separated: ${SWEEP_IDS.join(", ")} (default: all)
  --points LIST           the x values of the one sweep given (e.g. --sweep names --points 1,1000)
  --seconds N             length of the closed loop and of the paced load at each point (default ${FULL_SCALING_SIZES.maxSeconds}; quick ${QUICK_SCALING_SIZES.maxSeconds})
  --paced-rate N          the paced load, tasks/s, the same for every point and system (default ${FULL_SCALING_SIZES.pacedRate})
  --paced-share F         ... or this share of the point's max when lower (default ${FULL_SCALING_SIZES.pacedShare})
  --profile               with --scaling: CPU profiles at every point (first repeat), split by component`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ""));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1 (got "${value}")`);
  return n;
}

/** Parses the command line; throws with a message a person can act on. */
export function parseOptions(argv: readonly string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      scenario: { type: "string" },
      system: { type: "string" },
      durability: { type: "boolean", default: false },
      "data-root": { type: "string" },
      repeats: { type: "string" },
      tasks: { type: "string" },
      warmup: { type: "string" },
      backlog: { type: "string" },
      samples: { type: "string" },
      "latency-burst": { type: "string" },
      "latency-warmup": { type: "string" },
      workers: { type: "string" },
      concurrency: { type: "string" },
      chunk: { type: "string" },
      submitters: { type: "string" },
      "failover-tasks": { type: "string" },
      "failover-rate": { type: "string" },
      out: { type: "string", default: "bench/results" },
      profile: { type: "boolean", default: false },
      scaling: { type: "boolean", default: false },
      sweep: { type: "string" },
      points: { type: "string" },
      seconds: { type: "string" },
      "paced-share": { type: "string" },
      "paced-rate": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  const base = values.quick ? QUICK_SIZES : FULL_SIZES;
  const sizes: Sizes = {
    ...base,
    tasks: positiveInt("tasks", values.tasks, base.tasks),
    warmup: values.warmup === "0" ? 0 : positiveInt("warmup", values.warmup, base.warmup),
    backlog: positiveInt("backlog", values.backlog, base.backlog),
    samples: positiveInt("samples", values.samples, base.samples),
    latencyBurst: values["latency-burst"] === "0" ? 0 : positiveInt("latency-burst", values["latency-burst"], base.latencyBurst),
    latencyWarmup: values["latency-warmup"] === "0" ? 0 : positiveInt("latency-warmup", values["latency-warmup"], base.latencyWarmup),
    manyWorkers: positiveInt("workers", values.workers, base.manyWorkers),
    concurrency: positiveInt("concurrency", values.concurrency, base.concurrency),
    chunk: positiveInt("chunk", values.chunk, base.chunk),
    submitters: positiveInt("submitters", values.submitters, base.submitters),
    failoverTasks: positiveInt("failover-tasks", values["failover-tasks"], base.failoverTasks),
    failoverRate: positiveInt("failover-rate", values["failover-rate"], base.failoverRate),
  };
  if (values.durability && values.system !== undefined) throw new Error("--durability already selects every system; leave out --system (or list the systems with --system alone)");
  const systems = values.system === undefined ? [...(values.durability ? DURABILITY_SYSTEMS : DEFAULT_SYSTEMS)] : values.system.split(",").map((s) => s.trim());
  for (const s of systems) if (!(SYSTEM_NAMES as readonly string[]).includes(s)) throw new Error(`unknown system "${s}"; known: ${SYSTEM_NAMES.join(", ")}`);
  if (new Set(systems).size !== systems.length) throw new Error(`--system lists a system twice: ${systems.join(",")}`);
  const scaling = values.scaling ? scalingOptions(values) : undefined;
  if (!values.scaling && (values.sweep ?? values.points ?? values.seconds ?? values["paced-share"] ?? values["paced-rate"]) !== undefined) throw new Error("--sweep, --points, --seconds, --paced-rate and --paced-share go with --scaling");
  return {
    quick: values.quick,
    scenarios: values.scenario ? values.scenario.split(",").map((s) => scenarioById(s.trim())) : [...SCENARIOS],
    // In table order, whatever the order given.
    systems: SYSTEM_NAMES.filter((name) => systems.includes(name)),
    repeats: positiveInt("repeats", values.repeats, values.quick || scaling !== undefined ? 1 : 3),
    sizes,
    outDir: values.out,
    profile: values.profile,
    dataRoot: values["data-root"],
    argv: [...argv],
    ...(scaling !== undefined ? { scaling } : {}),
  };
}

/** The sweeps, points and phase lengths of `--scaling`. */
function scalingOptions(values: { quick: boolean; scenario?: string; durability: boolean; sweep?: string; points?: string; seconds?: string; "paced-share"?: string; "paced-rate"?: string }): ScalingOptions {
  if (values.scenario !== undefined || values.durability) throw new Error("--scaling runs sweeps, not scenarios: use --sweep (and --system) instead of --scenario / --durability");
  const base = values.quick ? QUICK_SCALING_SIZES : FULL_SCALING_SIZES;
  const sweeps = values.sweep === undefined ? [...SWEEPS] : values.sweep.split(",").map((s) => sweepById(s.trim()));
  if (new Set(sweeps).size !== sweeps.length) throw new Error(`--sweep lists a sweep twice: ${values.sweep}`);
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  if (seconds !== undefined && !(seconds > 0 && seconds <= 600)) throw new Error(`--seconds must be a number of seconds between 0 and 600 (got "${values.seconds}")`);
  const share = values["paced-share"] === undefined ? base.pacedShare : Number(values["paced-share"]);
  if (!(share > 0 && share <= 1)) throw new Error(`--paced-share must be a number above 0 and at most 1 (got "${values["paced-share"]}")`);
  const pacedRate = positiveInt("paced-rate", values["paced-rate"], base.pacedRate);
  const points = { ...base.points };
  if (values.points !== undefined) {
    if (sweeps.length !== 1) throw new Error("--points needs exactly one --sweep");
    points[sweeps[0]!.id] = values.points.split(",").map((p) => positiveInt("points", p.trim(), 1));
  }
  const sizes: ScalingSizes = { ...base, points, pacedShare: share, pacedRate, ...(seconds !== undefined ? { maxSeconds: seconds, pacedSeconds: seconds } : {}) };
  for (const sweep of sweeps) for (const x of sizes.points[sweep.id]) sweep.shape(x, sizes); // throws for a point that cannot be laid out
  return { sweeps, sizes };
}
