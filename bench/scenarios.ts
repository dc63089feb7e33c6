import type { Workload } from "./producer/protocol.js";
import { SYSTEM_NAMES, type SystemName } from "./systems/system.js";

/** The sizes a run uses; `--quick` and the size options change them. */
export interface Sizes {
  /** Tasks per throughput run (scenarios 1, 2, 5). */
  tasks: number;
  /** Tasks run first, not measured, in throughput runs. */
  warmup: number;
  /** Round trips measured in the latency scenarios (3, breakdown). */
  samples: number;
  /**
   * Sequential round trips run first, not measured, after the burst. The burst optimises the batched
   * paths; the one-at-a-time path keeps tiering up for a few thousand round trips more (measured at
   * 12,000 sequential round trips after a 20,000 burst: p99 3.2 ms in the first 1,000, ~1 ms from
   * 3,000 on, with TurboFan still finishing functions in fw-server until then).
   */
  latencyWarmup: number;
  /**
   * Tasks run as one batched burst before the latency warm-up, not measured: it brings every
   * process's hot paths to optimised code (V8 tiers a function up by how often it ran), so the
   * samples measure a running system rather than the first seconds after start. 0 measures cold.
   */
  latencyBurst: number;
  /** Tasks queued before any worker starts (scenarios 4 and 6). */
  backlog: number;
  /**
   * How long after the backlog's last acceptance the broker's memory is read a
   * second time, before the workers start (fw-server's idle collection frees what
   * the submissions left within a few seconds of falling idle).
   */
  backlogSettleMs: number;
  /** Tasks per batch (Promise.all over submit() / addBulk) in batched submission. */
  chunk: number;
  /** Batches outstanding at once in batched submission. */
  inflightChunks: number;
  /** Concurrent app loops in per-submit submission (scenario 2). */
  submitters: number;
  /** Tasks each worker runs at once. */
  concurrency: number;
  /** Workers in scenario 5. */
  manyWorkers: number;
  /** Tasks submitted in a failover run (the leader is killed after a third were acknowledged). */
  failoverTasks: number;
  /** Submissions per second in a failover run: a steady load, below what the group sustains. */
  failoverRate: number;
}

export const FULL_SIZES: Sizes = {
  tasks: 100_000,
  warmup: 10_000,
  samples: 2_000,
  latencyWarmup: 5_000,
  latencyBurst: 20_000,
  backlog: 1_000_000,
  backlogSettleMs: 10_000,
  chunk: 1_000,
  inflightChunks: 4,
  submitters: 100,
  concurrency: 100,
  manyWorkers: 4,
  failoverTasks: 30_000,
  failoverRate: 2_000,
};

/** Tiny sizes that prove the harness end to end in seconds (CI smoke); the numbers mean nothing. */
export const QUICK_SIZES: Sizes = {
  tasks: 1_000,
  warmup: 200,
  samples: 50,
  latencyWarmup: 10,
  latencyBurst: 200,
  backlog: 2_000,
  backlogSettleMs: 200,
  chunk: 250,
  inflightChunks: 4,
  submitters: 50,
  concurrency: 100,
  manyWorkers: 2,
  failoverTasks: 1_500,
  failoverRate: 500,
};

export type ScenarioId = "throughput" | "per-submit" | "latency" | "backlog" | "workers" | "breakdown" | "failover";

/** One scenario: what runs, on how many workers, for which systems. */
export interface Scenario {
  id: ScenarioId;
  /** The numbers of the scenarios it covers. */
  covers: string;
  title: string;
  /** The systems it runs on (of those selected with --system). */
  systems: readonly SystemName[];
  workers(sizes: Sizes): number;
  workload(sizes: Sizes): Workload;
  /** Tasks the run submits in all (for fw-server --max-results). */
  tasks(sizes: Sizes): number;
}

const batched = (s: Sizes) => ({ chunk: s.chunk, inflightChunks: s.inflightChunks, submitters: s.submitters });

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "throughput",
    covers: "1",
    title: "end-to-end throughput, 1 worker, batched submission",
    systems: SYSTEM_NAMES,
    workers: () => 1,
    workload: (s) => ({ kind: "throughput", tasks: s.tasks, warmup: s.warmup, submit: "batched", ...batched(s) }),
    tasks: (s) => s.tasks + s.warmup,
  },
  {
    id: "per-submit",
    covers: "2",
    title: "end-to-end throughput, 1 worker, one submit call per task",
    systems: SYSTEM_NAMES,
    workers: () => 1,
    workload: (s) => ({ kind: "throughput", tasks: s.tasks, warmup: s.warmup, submit: "per-submit", ...batched(s) }),
    tasks: (s) => s.tasks + s.warmup,
  },
  {
    id: "latency",
    covers: "3",
    title: "idle round trip, sequential tasks",
    systems: SYSTEM_NAMES,
    workers: () => 1,
    workload: (s) => ({ kind: "latency", samples: s.samples, warmup: s.latencyWarmup, burst: s.latencyBurst, chunk: s.chunk, inflightChunks: s.inflightChunks }),
    tasks: (s) => s.samples + s.latencyWarmup + s.latencyBurst,
  },
  {
    id: "backlog",
    covers: "4, 6",
    title: "deep backlog: queue N with no worker, then drain with 1 worker; broker memory idle and loaded",
    systems: SYSTEM_NAMES,
    workers: () => 1,
    workload: (s) => ({ kind: "backlog", tasks: s.backlog, chunk: s.chunk, inflightChunks: s.inflightChunks }),
    tasks: (s) => s.backlog,
  },
  {
    id: "workers",
    covers: "5",
    title: "end-to-end throughput, several workers, batched submission",
    systems: SYSTEM_NAMES,
    workers: (s) => s.manyWorkers,
    workload: (s) => ({ kind: "throughput", tasks: s.tasks, warmup: s.warmup, submit: "batched", ...batched(s) }),
    tasks: (s) => s.tasks + s.warmup,
  },
  {
    id: "breakdown",
    covers: "3, hops",
    title: "idle round trip split into hops (fastworker, instrumented control plane)",
    systems: ["fastworker"],
    workers: () => 1,
    workload: (s) => ({ kind: "breakdown", samples: s.samples, warmup: s.latencyWarmup, burst: s.latencyBurst, chunk: s.chunk }),
    tasks: (s) => s.samples + s.latencyWarmup + s.latencyBurst,
  },
  {
    id: "failover",
    covers: "14",
    title: "failover under steady load: two control planes on one database, the leader killed with SIGKILL (fastworker-pg)",
    systems: ["fastworker-pg"],
    workers: () => 1,
    // The failover runner fills in verifyServer: the standby's address, known once deployed.
    workload: (s) => ({ kind: "failover", tasks: s.failoverTasks, rate: s.failoverRate, killAfter: Math.ceil(s.failoverTasks / 3), verifyServer: "" }),
    tasks: (s) => s.failoverTasks,
  },
];

export function scenarioById(id: string): Scenario {
  const found = SCENARIOS.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown scenario "${id}"; known: ${SCENARIOS.map((s) => s.id).join(", ")}`);
  return found;
}
