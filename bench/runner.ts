import { setTimeout as sleep } from "node:timers/promises";
import { analyzeBreakdown, type BreakdownSummary } from "./breakdown/analyze.js";
import type { StampsResponse } from "./breakdown/stamps.js";
import { Child } from "./lib/child.js";
import { repoPath, TSX_FLAGS } from "./lib/paths.js";
import { delta, snapshot, snapshotTree, type UsageDelta, type UsageSnapshot } from "./lib/proc-usage.js";
import { round, summarizeLatency, type LatencySummary } from "./lib/stats.js";
import type { Mark, ProducerMessage, ProducerReport, RunMessage } from "./producer/protocol.js";
import type { Scenario, Sizes } from "./scenarios.js";
import type { Deployment, System, SystemName } from "./systems/system.js";

/** Options for one run. */
export interface RunOptions {
  scenario: Scenario;
  system: System;
  sizes: Sizes;
  repeat: number;
  /** When set, the fastworker processes write CPU profiles here. */
  profileDir?: string;
  log(line: string): void;
}

/** CPU and memory of each process over the measured window. */
export interface RunUsage {
  broker?: UsageDelta;
  /** fastworker-pg: PostgreSQL's processes (postmaster, backends, WAL writer…; memory as summed Pss). */
  database?: UsageDelta;
  workers: (UsageDelta | undefined)[];
  producer?: UsageDelta;
}

/** The outcome of one run of one scenario on one system. */
export interface RunRecord {
  scenario: Scenario["id"];
  system: SystemName;
  repeat: number;
  /** Headline numbers of this run (see metrics.ts for names and units). */
  metrics: Record<string, number>;
  usage: RunUsage;
  latency?: LatencySummary;
  breakdown?: BreakdownSummary;
  /** Outcomes per second during the drain (backlog). */
  timeline?: number[];
  /** The failover scenario's details (failover-runner.ts). */
  failover?: Record<string, number | string | string[]>;
  error?: string;
}

/**
 * One run: deploy the system fresh (broker + workers as separate processes),
 * start a producer process, run the scenario's workload, measure CPU and
 * memory of every process over the measured window, and end everything by
 * pid. Every wait is bounded.
 */
export async function runOnce(options: RunOptions): Promise<RunRecord> {
  const { scenario, system, sizes } = options;
  const workload = scenario.workload(sizes);
  const tasks = scenario.tasks(sizes);
  const timeoutMs = 60_000 + tasks; // the producer's bound on each wait: a generous 1 ms per task on top of a minute
  const harnessTimeoutMs = timeoutMs + 30_000; // longer, so the producer's own timeout error is the one reported
  const isBacklog = workload.kind === "backlog";
  const record: RunRecord = { scenario: scenario.id, system: system.name, repeat: options.repeat, metrics: {}, usage: { workers: [] } };
  let deployment: Deployment | undefined;
  let producer: Child | undefined;
  try {
    deployment = await system.deploy({
      workers: isBacklog ? 0 : scenario.workers(sizes),
      concurrency: sizes.concurrency,
      expectedTasks: tasks,
      profileDir: options.profileDir,
      instrumented: workload.kind === "breakdown",
    });
    const d = deployment;
    const idleBroker = snapshot(d.broker.pid);
    producer = await startProducer(system.name, options.profileDir);
    const p = producer;

    const marks = new Map<Mark, Map<number, UsageSnapshot | undefined>>();
    const databaseMarks = new Map<Mark, UsageSnapshot | undefined>();
    const pids = (): number[] => [d.broker.pid, ...d.workers.map((w) => w.pid), p.pid];
    const takeSnapshots = (mark: Mark): void => {
      marks.set(mark, new Map(pids().map((pid) => [pid, snapshot(pid)])));
      if (d.backingPid !== undefined) databaseMarks.set(mark, snapshotTree(d.backingPid));
    };
    const failure = producerFailure(p, harnessTimeoutMs * 2);
    const waitMark = (mark: Mark): Promise<void> => producerMark(p, failure, mark, harnessTimeoutMs).then(() => takeSnapshots(mark));

    const run: RunMessage = { type: "run", target: d.target, workload, timeoutMs };
    const startMark = isBacklog ? waitMark("backlog-queued") : waitMark("measure-start");
    const endMark = waitMark("measure-end");
    endMark.catch(() => undefined);
    p.send(run);
    await startMark;
    if (isBacklog) {
      const queued = marks.get("backlog-queued")!.get(d.broker.pid);
      record.metrics.brokerIdleRssMB = round((idleBroker?.rssBytes ?? 0) / 2 ** 20, 1);
      record.metrics.brokerQueuedRssMB = round((queued?.rssBytes ?? 0) / 2 ** 20, 1);
      // Read again once the broker sat idle a while: a garbage-collected one (fw-server) still holds
      // what the submissions left at the last acceptance, which its idle collection frees; Redis has
      // nothing to free. Both get the same wait.
      options.log(`    ${tasks.toLocaleString("en")} queued; reading the broker's memory again in ${sizes.backlogSettleMs / 1000}s`);
      await sleep(sizes.backlogSettleMs);
      record.metrics.brokerSettledRssMB = round((snapshot(d.broker.pid)?.rssBytes ?? 0) / 2 ** 20, 1);
      options.log(`    ${tasks.toLocaleString("en")} queued; starting ${scenario.workers(sizes)} worker(s)`);
      await d.startWorkers(scenario.workers(sizes));
      takeSnapshots("measure-start");
    }
    await endMark;
    const report = await producerReport(p, failure, harnessTimeoutMs);
    const start = marks.get("measure-start");
    const end = marks.get("measure-end");
    if (start !== undefined && end !== undefined) {
      record.usage = {
        broker: delta(start.get(d.broker.pid), end.get(d.broker.pid)),
        ...(d.backingPid !== undefined ? { database: delta(databaseMarks.get("measure-start"), databaseMarks.get("measure-end")) } : {}),
        workers: d.workers.map((w) => delta(start.get(w.pid), end.get(w.pid))),
        producer: delta(start.get(p.pid), end.get(p.pid)),
      };
    }
    if (report.kind === "breakdown") {
      d.broker.send({ type: "stamps", ids: report.samples.map((s) => s.id) });
      const stamps = await d.broker.waitForMessage("stamps", (m) => ((m as StampsResponse).type === "stamps" ? (m as StampsResponse).stamps : undefined), 30_000);
      record.breakdown = analyzeBreakdown(report.samples, stamps);
    }
    Object.assign(record.metrics, metricsOf(report, record));
    if (report.kind === "latency") record.latency = summarizeLatency(report.samplesMs);
    if (report.kind === "backlog") record.timeline = report.timeline;
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    await stopRun(producer === undefined ? [] : [producer], deployment, record.error === undefined);
  }
  return record;
}

/** Starts a producer process (producer/producer-main.ts) and waits until it is ready for its run message. */
export async function startProducer(system: SystemName, profileDir: string | undefined): Promise<Child> {
  const producer = Child.start({
    name: `${system}-producer`,
    command: process.execPath,
    args: [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}/producer`] : []), ...TSX_FLAGS, repoPath("bench/producer/producer-main.ts")],
    cwd: repoPath(""),
    ipc: true,
  });
  try {
    await producer.waitForMessage("ready message", (m) => ((m as ProducerMessage).type === "ready" ? true : undefined), 30_000);
  } catch (err) {
    await producer.stop({ graceMs: 2000 });
    throw err;
  }
  return producer;
}

/** Resolves with the producer's error message if it sends one within `timeoutMs` (a rejection then is already handled). */
export function producerFailure(producer: Child, timeoutMs: number): Promise<string> {
  const failure = producer.waitForMessage("error message", (m) => ((m as ProducerMessage).type === "error" ? (m as { message: string }).message : undefined), timeoutMs);
  failure.catch(() => undefined);
  return failure;
}

/** Resolves when the producer sends `mark`; rejects with its error message, or after `timeoutMs`. */
export async function producerMark(producer: Child, failure: Promise<string>, mark: Mark, timeoutMs: number): Promise<void> {
  await Promise.race([
    producer.waitForMessage(`"${mark}" mark`, (m) => {
      const message = m as ProducerMessage;
      return message.type === "mark" && message.mark === mark ? true : undefined;
    }, timeoutMs),
    failure.then((message) => Promise.reject(new Error(`producer failed: ${message}`))),
  ]);
}

/** The producer's report, or a rejection with its error message (bounded). */
export function producerReport(producer: Child, failure: Promise<string>, timeoutMs: number): Promise<ProducerReport> {
  return Promise.race([
    producer.waitForMessage("report", (m) => ((m as ProducerMessage).type === "report" ? (m as { report: ProducerReport }).report : undefined), timeoutMs),
    failure.then((message) => Promise.reject(new Error(`producer failed: ${message}`))),
  ]);
}

/**
 * Ends a run's producers, then its deployment. After their report producers
 * exit by themselves (writing any CPU profile): when the run `reported`,
 * each is given up to 30 s for that first.
 */
export async function stopRun(producers: readonly Child[], deployment: Deployment | undefined, reported: boolean): Promise<void> {
  await Promise.all(
    producers.map(async (p) => {
      if (reported) await Promise.race([p.exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
      await p.stop({ graceMs: 10_000 });
    }),
  );
  await deployment?.stop();
}

/** The headline numbers of a report. */
function metricsOf(report: ProducerReport, record: RunRecord): Record<string, number> {
  const cpuPerKTask = (tasks: number): Record<string, number> => {
    const u = record.usage;
    const ms = (d: UsageDelta | undefined): number => (d ? round((d.cpuSeconds * 1e6) / tasks, 1) : Number.NaN);
    const workersCpu = u.workers.reduce((sum, w) => sum + (w?.cpuSeconds ?? 0), 0);
    return {
      brokerCpuMsPer1k: ms(u.broker),
      ...(u.database !== undefined ? { databaseCpuMsPer1k: ms(u.database) } : {}),
      workersCpuMsPer1k: round((workersCpu * 1e6) / tasks, 1),
      producerCpuMsPer1k: ms(u.producer),
      brokerPeakRssMB: u.broker?.peakRssMB ?? Number.NaN,
    };
  };
  switch (report.kind) {
    case "throughput":
      return {
        tasksPerSecond: round(report.tasksPerSecond, 0),
        submittedPerSecond: round(report.submittedPerSecond, 0),
        totalSeconds: round(report.totalSeconds),
        ...cpuPerKTask(report.tasks),
      };
    case "backlog":
      return {
        drainTasksPerSecond: round(report.tasksPerSecond, 0),
        queueSeconds: round(report.submitSeconds),
        queuedPerSecond: round(report.tasks / report.submitSeconds, 0),
        drainSeconds: round(report.drainSeconds),
        ...cpuPerKTask(report.tasks),
      };
    case "latency": {
      const s = summarizeLatency(report.samplesMs);
      return { p50Ms: round(s.p50), p99Ms: round(s.p99), p999Ms: round(s.p999), meanMs: round(s.mean), maxMs: round(s.max) };
    }
    case "failover":
      throw new Error("a failover report belongs to failover-runner.ts");
    case "scaling":
      throw new Error("a scaling report belongs to scaling/point-runner.ts");
    case "breakdown": {
      const b = record.breakdown;
      if (b === undefined) return {};
      const out: Record<string, number> = { p50Ms: b.total.p50, p99Ms: b.total.p99 };
      for (const hop of b.hops) out[`${hop.id}P50Ms`] = hop.p50;
      return out;
    }
  }
}
