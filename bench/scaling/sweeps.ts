import type { SystemKind } from "../producer/protocol.js";

/** The sweeps of `npm run bench:scaling` (`--sweep`), in the order they run. */
export const SWEEP_IDS = ["workers", "payload", "names", "sessions", "components"] as const;
export type SweepId = (typeof SWEEP_IDS)[number];

/** How long each phase of a point runs and how much is in flight; `--quick` and the options change them. */
export interface ScalingSizes {
  /** Closed loop before anything is measured (JIT, connections, pools). */
  warmupSeconds: number;
  /** The closed loop whose completions give the max throughput. */
  maxSeconds: number;
  /** The paced load whose round trips give the latency. */
  pacedSeconds: number;
  /**
   * The paced load, tasks/s: `pacedRate`, or `pacedShare` of the max measured
   * at the same point when that is lower. A fixed rate puts both systems and
   * every point under the same offered load, so p99 shows what the variable
   * costs a task, not how near saturation each system runs; the share keeps
   * points whose max is low (1 MiB payloads) below saturation.
   */
  pacedRate: number;
  pacedShare: number;
  /** Tasks unfinished at once in the closed loop, over all producers (fewer for large payloads, see windowBytes). */
  window: number;
  /** Args bytes unfinished at once in the closed loop, at most: 1 MiB args get a window of 64. */
  windowBytes: number;
  /** Tasks per batch on one session, at most. */
  chunk: number;
  /** Tasks each worker connection runs at once. */
  concurrency: number;
  /** The x values of each sweep. */
  points: Record<SweepId, readonly number[]>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const FULL_SCALING_SIZES: ScalingSizes = {
  warmupSeconds: 3,
  maxSeconds: 10,
  pacedSeconds: 10,
  pacedRate: 1000,
  pacedShare: 0.5,
  window: 4000,
  windowBytes: 64 * MiB,
  chunk: 1000,
  concurrency: 100,
  points: {
    workers: [1, 4, 16, 64],
    payload: [100, 10 * KiB, MiB],
    names: [1, 100, 10_000],
    sessions: [1, 100, 1000],
    components: [1],
  },
};

/** A few seconds per point: proves the sweeps end to end (CI); the numbers mean nothing. */
export const QUICK_SCALING_SIZES: ScalingSizes = {
  warmupSeconds: 0.3,
  // Half a second per phase: enough for hundreds of tasks and paced round trips per point, and
  // the smoke run is the longest test in CI (it was 91 s with a second per phase).
  maxSeconds: 0.5,
  pacedSeconds: 0.5,
  pacedRate: 1000,
  pacedShare: 0.5,
  window: 400,
  windowBytes: 16 * MiB,
  chunk: 100,
  concurrency: 100,
  points: {
    // 8 = 4 processes × 2 connections, and 4 producers × 2 sessions: the multi-instance paths run too.
    workers: [1, 8],
    payload: [100, 10 * KiB],
    names: [1, 100],
    sessions: [1, 8],
    components: [1],
  },
};

/** Worker connections and sessions are spread over at most this many processes each (2 cores: more would only add context switches). */
export const MAX_PROCESSES = 4;

/** Every sweep starts from this point and changes one thing: 1 worker connection, 100 B args, 1 name, 1 session. */
export const BASELINE = { connections: 1, payloadBytes: 100, names: 1, sessions: 1 } as const;

/** What one point of a sweep deploys and loads. */
export interface PointShape {
  /** Worker connections in all, spread evenly over `workerProcesses`. */
  connections: number;
  workerProcesses: number;
  /** Args bytes (JSON); the result is as large (the handler answers its args). */
  payloadBytes: number;
  /** Task names every worker serves; tasks are spread over them uniformly. */
  names: number;
  /** Sessions in all, spread evenly over `producers` processes. */
  sessions: number;
  producers: number;
  /** Closed-loop window and batch, per producer process. */
  window: number;
  chunk: number;
  /** fastworker: --max-payload (bytes) when the args come near the default 1 MiB; --max-results. */
  maxPayloadBytes?: number;
  maxResults: number;
  /**
   * BullMQ: the events stream's maxLen. Every `completed` event carries the
   * return value, as large as the args: the default of the other scenarios
   * (100,000) would keep up to ~25 GiB of 1 MiB results in Redis. Bounded like
   * fastworker's kept results, and still far above the events of one window.
   */
  eventsMaxLen: number;
}

/** One sweep: a variable, its points, and the systems that have a peer for it. */
export interface Sweep {
  id: SweepId;
  title: string;
  /** The swept variable, for table headers and the chart's x axis. */
  variable: string;
  /** How an x value is shown ("10 KiB", "1,000"). */
  format(x: number): string;
  /** The kinds of system it runs on (of those selected with --system): components needs fastworker's CPU profiles. */
  kinds: readonly SystemKind[];
  /** How BullMQ stands in for the variable (said under the table). */
  bullmq: string;
  /**
   * Whether fastworker's processes always run with CPU profiles here (first
   * repeat), for the split by component: `components`, and `names`, whose
   * question is the dispatcher's cost as names grow. Sampling costs them some
   * CPU (not measured apart); `--profile` profiles every sweep.
   */
  profiled: boolean;
  /** The point's shape: the baseline with the variable set to x. */
  shape(x: number, sizes: ScalingSizes): PointShape;
}

const count = (x: number): string => x.toLocaleString("en");

/** Bytes as "100 B", "10 KiB", "1 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes.toLocaleString("en")} B`;
}

/** `total` spread over at most MAX_PROCESSES processes, evenly. */
function spread(total: number, what: string): { processes: number; each: number } {
  const processes = Math.min(total, MAX_PROCESSES);
  if (total % processes !== 0) throw new Error(`${count(total)} ${what} do not spread evenly over ${processes} processes; use a multiple of ${processes}`);
  return { processes, each: total / processes };
}

/** The shape of a point: connections, payload, names and sessions, and what follows from them. */
export function pointShape(p: { connections: number; payloadBytes: number; names: number; sessions: number }, sizes: ScalingSizes): PointShape {
  const workers = spread(p.connections, "worker connections");
  const producers = spread(p.sessions, "sessions");
  // The window is over all producers; large args shrink it so their bytes in flight stay bounded.
  const window = Math.max(1, Math.floor(Math.min(sizes.window, sizes.windowBytes / p.payloadBytes) / producers.processes));
  // About four batches in flight per session; one task per batch when sessions are many.
  const chunk = Math.max(1, Math.min(sizes.chunk, Math.floor(window / (4 * producers.each))));
  return {
    connections: p.connections,
    workerProcesses: workers.processes,
    payloadBytes: p.payloadBytes,
    names: p.names,
    sessions: p.sessions,
    producers: producers.processes,
    window,
    chunk,
    // The default --max-payload is 1 MiB, as large as the largest args here: give room.
    ...(p.payloadBytes > 512 * KiB ? { maxPayloadBytes: 2 * p.payloadBytes } : {}),
    // The default 10,000 kept results, fewer when they are large (1 MiB: 128, 256 MiB of args and results).
    maxResults: Math.max(100, Math.min(10_000, Math.floor((256 * MiB) / (2 * p.payloadBytes)))),
    // About a quarter of the events are `completed` ones with a result: ~256 MiB of them at most (1 MiB: 1,024 events).
    eventsMaxLen: Math.max(1000, Math.min(100_000, Math.floor(GiB / p.payloadBytes))),
  };
}

const BOTH: readonly SystemKind[] = ["fastworker", "bullmq"];

export const SWEEPS: readonly Sweep[] = [
  {
    id: "workers",
    title: "worker connections (spread over up to 4 worker processes)",
    variable: "worker connections",
    format: count,
    kinds: BOTH,
    profiled: false,
    bullmq: "BullMQ: as many `Worker`s (each its own Redis connections), spread over the same processes",
    shape: (x, sizes) => pointShape({ ...BASELINE, connections: x }, sizes),
  },
  {
    id: "payload",
    title: "args size (the result is as large)",
    variable: "args and result",
    format: formatBytes,
    kinds: BOTH,
    profiled: false,
    bullmq: "BullMQ: the same job data; the worker returns it",
    shape: (x, sizes) => pointShape({ ...BASELINE, payloadBytes: x }, sizes),
  },
  {
    id: "names",
    title: "distinct task names served (tasks spread over them uniformly)",
    variable: "task names",
    format: count,
    kinds: BOTH,
    profiled: true,
    bullmq: "BullMQ: one queue with that many job names, as BullMQ users do (a queue per name would need a Worker per name); a Worker takes every job of its queue, so names cost it nothing",
    shape: (x, sizes) => pointShape({ ...BASELINE, names: x }, sizes),
  },
  {
    id: "sessions",
    title: "concurrent client sessions (spread over up to 4 producer processes)",
    variable: "client sessions",
    format: count,
    kinds: BOTH,
    profiled: false,
    bullmq: "BullMQ: as many `Queue` instances (each its own Redis connection), with one `QueueEvents` reader per producer process",
    shape: (x, sizes) => pointShape({ ...BASELINE, sessions: x }, sizes),
  },
  {
    id: "components",
    title: "CPU per task by component (fastworker, baseline point, CPU profiles)",
    variable: "point",
    format: () => "baseline",
    kinds: ["fastworker"],
    profiled: true,
    bullmq: "no peer: Redis is not a Node process",
    shape: (_x, sizes) => pointShape(BASELINE, sizes),
  },
];

export function sweepById(id: string): Sweep {
  const found = SWEEPS.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown sweep "${id}"; known: ${SWEEP_IDS.join(", ")}`);
  return found;
}
