import { loadavg } from "node:os";
import { join } from "node:path";
import type { Child } from "../lib/child.js";
import { delta, snapshot, type UsageDelta, type UsageSnapshot } from "../lib/proc-usage.js";
import { round, summarizeLatency, type LatencySummary } from "../lib/stats.js";
import { componentSplit, type ComponentSplit } from "../profile/components.js";
import type { ProducerMessage, ScalingWorkload, StepMessage, StepReport } from "../producer/protocol.js";
import { producerFailure, producerReport, startProducer, stopRun } from "../runner.js";
import type { Deployment, System, SystemName } from "../systems/system.js";
import type { PointShape, ScalingSizes, Sweep } from "./sweeps.js";

/** Options for one point of a sweep on one system. */
export interface PointOptions {
  sweep: Sweep;
  x: number;
  system: System;
  sizes: ScalingSizes;
  repeat: number;
  /** When set, fastworker's processes write CPU profiles under it and the record gets the split by component. */
  profileDir?: string;
  log(line: string): void;
}

/** CPU and memory of every process over one step. */
export interface StepUsage {
  broker?: UsageDelta;
  workers: (UsageDelta | undefined)[];
  producers: (UsageDelta | undefined)[];
}

/** The outcome of one point of one sweep on one system. */
export interface PointRecord {
  sweep: Sweep["id"];
  x: number;
  system: SystemName;
  repeat: number;
  shape: PointShape;
  /**
   * maxTasksPerSecond: closed loop; pacedRate / pacedTasksPerSecond: asked and
   * done; p50Ms…: submit → result under the paced load; *CpuUsPerTask: CPU µs
   * per task over the closed loop (brokerPacedCpuUsPerTask: over the paced
   * load); brokerRssMB: at the end of the closed loop.
   */
  metrics: Record<string, number>;
  usage: { max: StepUsage; paced: StepUsage };
  latency?: LatencySummary;
  /** With profiles: the closed loop's CPU per task of each fastworker role, by component. */
  components?: ComponentSplit[];
  /** The machine's 1, 5 and 15 minute load averages when the point started (it is shared: a busy one makes noisy numbers). */
  loadAverage: number[];
  error?: string;
}

/**
 * One point: deploy the system in the point's shape, start its producer
 * processes, and step them together through warm-up, the closed loop (max
 * throughput) and the paced load (latency at `pacedRate`, or `pacedShare`
 * of that max when lower),
 * snapshotting /proc of every process at each step's edges. Everything is
 * ended by pid; every wait is bounded.
 */
export async function runPoint(options: PointOptions): Promise<PointRecord> {
  const { sweep, x, system, sizes } = options;
  const shape = sweep.shape(x, sizes);
  const load = loadavg().map((l) => Math.round(l * 100) / 100);
  const record: PointRecord = { sweep: sweep.id, x, system: system.name, repeat: options.repeat, shape, metrics: {}, usage: { max: emptyUsage(), paced: emptyUsage() }, loadAverage: load };
  const started = performance.now();
  const progress = (what: string): void => options.log(`    #${options.repeat} ${system.name}: ${what} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
  // The producers' bound on each wait, and the harness's (longer, so the producer's own error is the one reported).
  const timeoutMs = 60_000;
  const stepTimeoutMs = (seconds: number): number => seconds * 1000 + timeoutMs + 30_000;
  const profileDir = system.kind === "fastworker" ? options.profileDir : undefined;
  let deployment: Deployment | undefined;
  const producers: Child[] = [];
  try {
    progress(`deploying (load average ${load.join(" ")}${profileDir !== undefined ? ", CPU profiles on" : ""})`);
    deployment = await system.deploy({
      workers: shape.workerProcesses,
      concurrency: sizes.concurrency,
      expectedTasks: 0,
      profileDir,
      shape: {
        connectionsPerProcess: shape.connections / shape.workerProcesses,
        names: shape.names,
        maxResults: shape.maxResults,
        ...(shape.maxPayloadBytes !== undefined ? { maxPayloadBytes: shape.maxPayloadBytes } : {}),
      },
    });
    const d = deployment;
    for (let i = 0; i < shape.producers; i++) producers.push(await startProducer(system.name, profileDir));
    // A producer's error message, whenever it comes; no message within the bound is no failure (the steps have bounds of their own).
    const failures = producers.map((p) => producerFailure(p, 2 * stepTimeoutMs(sizes.warmupSeconds + sizes.maxSeconds + sizes.pacedSeconds)).catch(() => new Promise<string>(() => undefined)));
    /** Waits for one message from every producer, or the first producer's failure. */
    const fromEach = <T>(what: string, pick: (m: ProducerMessage) => T | undefined, ms: number): Promise<T[]> =>
      Promise.all(
        producers.map((p, i) =>
          Promise.race([
            p.waitForMessage(what, (m) => pick(m as ProducerMessage), ms),
            failures[i]!.then((message) => Promise.reject(new Error(`${p.name} failed: ${message}`))),
          ]),
        ),
      );
    const pids = (): number[] => [d.broker.pid, ...d.workers.map((w) => w.pid), ...producers.map((p) => p.pid)];
    const takeSnapshots = (): { at: number; usage: Map<number, UsageSnapshot | undefined> } => ({ at: monotonicMicros(), usage: new Map(pids().map((pid) => [pid, snapshot(pid)])) });
    const usageBetween = (a: ReturnType<typeof takeSnapshots>, b: ReturnType<typeof takeSnapshots>): StepUsage => ({
      broker: delta(a.usage.get(d.broker.pid), b.usage.get(d.broker.pid)),
      workers: d.workers.map((w) => delta(a.usage.get(w.pid), b.usage.get(w.pid))),
      producers: producers.map((p) => delta(a.usage.get(p.pid), b.usage.get(p.pid))),
    });
    const step = async (message: StepMessage & { step: "max" | "paced" }): Promise<{ reports: StepReport[]; usage: StepUsage; window: { from: number; to: number } }> => {
      const before = takeSnapshots();
      for (const p of producers) p.send(message);
      const reports = await fromEach(`"${message.step}" step report`, (m) => (m.type === "step-report" && m.report.step === message.step ? m.report : undefined), stepTimeoutMs(message.seconds));
      const after = takeSnapshots();
      return { reports, usage: usageBetween(before, after), window: { from: before.at, to: after.at } };
    };

    const workload: ScalingWorkload = {
      kind: "scaling",
      sessions: shape.sessions / shape.producers,
      names: shape.names,
      payloadBytes: shape.payloadBytes,
      chunk: shape.chunk,
      window: shape.window,
      warmupSeconds: sizes.warmupSeconds,
    };
    // BullMQ's events stream is bounded by the point's payload (see PointShape.eventsMaxLen).
    const target = d.target.system === "bullmq" ? { ...d.target, eventsMaxLen: shape.eventsMaxLen } : d.target;
    progress(`${shape.producers} producer(s) with ${shape.sessions} session(s) started; warming up ${sizes.warmupSeconds}s`);
    for (const p of producers) p.send({ type: "run", target, workload, timeoutMs });
    await fromEach(`"warm" mark`, (m) => (m.type === "mark" && m.mark === "warm" ? true : undefined), stepTimeoutMs(sizes.warmupSeconds));

    // As fast as it goes: every producer's closed loop at once.
    progress(`closed loop ${sizes.maxSeconds}s`);
    const max = await step({ type: "step", step: "max", seconds: sizes.maxSeconds });
    const maxTasksPerSecond = sum(max.reports.map((r) => r.completedInWindow / r.seconds));
    const maxTasks = sum(max.reports.map((r) => r.completed));
    record.usage.max = max.usage;
    const brokerRss = snapshot(d.broker.pid);

    // A steady load at a share of that max, spread evenly over the producers.
    const rate = Math.max(1, Math.min(sizes.pacedRate, maxTasksPerSecond * sizes.pacedShare));
    progress(`max ${Math.round(maxTasksPerSecond)} tasks/s; paced load at ${Math.round(rate)}/s for ${sizes.pacedSeconds}s`);
    const paced = await step({ type: "step", step: "paced", seconds: sizes.pacedSeconds, rate: rate / shape.producers });
    record.usage.paced = paced.usage;
    const samples = paced.reports.flatMap((r) => r.latencyMs ?? []);
    const lag = summarizeLatency(paced.reports.flatMap((r) => r.lagMs ?? []));
    const pacedTasks = sum(paced.reports.map((r) => r.completed));
    record.latency = summarizeLatency(samples);

    for (const p of producers) p.send({ type: "step", step: "finish" } satisfies StepMessage);
    await Promise.all(producers.map((p, i) => producerReport(p, failures[i]!, timeoutMs)));

    const perTask = (cpu: number, tasks: number): number => (tasks > 0 ? round((cpu * 1e6) / tasks, 1) : Number.NaN);
    const cpuOf = (u: StepUsage): { broker: number; workers: number; producers: number } => ({
      broker: u.broker?.cpuSeconds ?? Number.NaN,
      workers: sum(u.workers.map((w) => w?.cpuSeconds ?? 0)),
      producers: sum(u.producers.map((p) => p?.cpuSeconds ?? 0)),
    });
    const maxCpu = cpuOf(max.usage);
    record.metrics = {
      maxTasksPerSecond: round(maxTasksPerSecond, 0),
      pacedRate: round(rate, 0),
      pacedTasksPerSecond: round(sum(paced.reports.map((r) => r.completedInWindow / r.seconds)), 0),
      pacedSkipped: sum(paced.reports.map((r) => r.skipped ?? 0)),
      p50Ms: round(record.latency.p50),
      p99Ms: round(record.latency.p99),
      p999Ms: round(record.latency.p999),
      lagP99Ms: round(lag.p99),
      brokerCpuUsPerTask: perTask(maxCpu.broker, maxTasks),
      workersCpuUsPerTask: perTask(maxCpu.workers, maxTasks),
      producersCpuUsPerTask: perTask(maxCpu.producers, maxTasks),
      brokerPacedCpuUsPerTask: perTask(cpuOf(paced.usage).broker, pacedTasks),
      brokerRssMB: round((brokerRss?.rssBytes ?? Number.NaN) / 2 ** 20, 1),
      brokerPeakRssMB: paced.usage.broker?.peakRssMB ?? Number.NaN,
    };
    if (profileDir !== undefined) {
      // The processes write their profiles when they exit: stop everything first.
      await stopRun(producers, deployment, true);
      deployment = undefined;
      const roles = [
        { role: "fw-server", cpu: maxCpu.broker },
        { role: "fw-worker", cpu: maxCpu.workers },
        { role: "producer", cpu: maxCpu.producers },
      ];
      record.components = roles.flatMap(({ role, cpu }) => componentSplit(join(profileDir, role), role, max.window, perTask(cpu, maxTasks)) ?? []);
    }
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    await stopRun(producers, deployment, record.error === undefined);
  }
  return record;
}

function emptyUsage(): StepUsage {
  return { workers: [], producers: [] };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** µs of the monotonic clock, the clock of V8's CPU profiles. */
function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
