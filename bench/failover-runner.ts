import type { Child } from "./lib/child.js";
import { round } from "./lib/stats.js";
import { wallNow, type FailoverWorkload, type RunMessage } from "./producer/protocol.js";
import { producerFailure, producerMark, producerReport, startProducer, stopRun, type RunOptions, type RunRecord } from "./runner.js";
import type { Deployment } from "./systems/system.js";

/** How long the standby may take to lead after the kill before the run fails. */
const TAKEOVER_TIMEOUT_MS = 60_000;
/** Ids of lost or unfinished tasks kept in the record (the counts are complete). */
const KEEP_IDS = 20;

/**
 * One failover run (fastworker-pg): two control planes on a fresh database,
 * the first leading, the second standing by; one worker and one producer
 * given both addresses. The producer submits at a steady rate; once a third
 * of the tasks were acknowledged it says so, and the harness kills the
 * leader with SIGKILL. Measured: kill → the standby's `fw-server leading`
 * line; kill → the first submission the new leader acknowledged (as the
 * producer heard it); acknowledged tasks the new leader does not know
 * (must be 0: the run fails otherwise), and submissions refused meanwhile.
 */
export async function runFailover(options: RunOptions): Promise<RunRecord> {
  const { scenario, system, sizes } = options;
  const workload = scenario.workload(sizes);
  if (workload.kind !== "failover") throw new Error(`${scenario.id} is not a failover scenario`);
  const tasks = scenario.tasks(sizes);
  const timeoutMs = 60_000 + tasks;
  const harnessTimeoutMs = timeoutMs * 3 + 30_000; // the producer waits up to three times (submissions, results, the check)
  const record: RunRecord = { scenario: scenario.id, system: system.name, repeat: options.repeat, metrics: {}, usage: { workers: [] } };
  let deployment: Deployment | undefined;
  let producer: Child | undefined;
  try {
    deployment = await system.deploy({ workers: scenario.workers(sizes), concurrency: sizes.concurrency, expectedTasks: tasks, standbys: 1 });
    const d = deployment;
    const standby = d.standbys[0];
    const addresses = d.target.system === "fastworker" ? d.target.server.split(",") : [];
    if (standby === undefined || addresses.length !== 2) throw new Error(`${system.name} did not deploy a leader and a standby`);
    producer = await startProducer(system.name, undefined);
    const p = producer;
    const failure = producerFailure(p, harnessTimeoutMs * 2);
    const killMark = producerMark(p, failure, "failover-kill", timeoutMs);
    const run: RunMessage = { type: "run", target: d.target, workload: { ...(workload satisfies FailoverWorkload), verifyServer: addresses[1]! }, timeoutMs };
    p.send(run);
    await killMark;

    const killedAt = wallNow();
    const killed = d.broker.stop({ signal: "SIGKILL", graceMs: 5000 });
    const leadingLine = await standby.waitForLine(/^fw-server leading /, TAKEOVER_TIMEOUT_MS);
    const leadingAt = wallNow();
    await killed;
    options.log(`    leader killed; the standby led after ${Math.round(leadingAt - killedAt)} ms`);

    const report = await producerReport(p, failure, harnessTimeoutMs);
    if (report.kind !== "failover") throw new Error(`expected a failover report, got ${report.kind}`);
    record.metrics = {
      leadingMs: round(leadingAt - killedAt, 1),
      firstAckMs: report.firstNewLeaderAckAt === null ? Number.NaN : round(report.firstNewLeaderAckAt - killedAt, 1),
      lostTasks: report.lost.length,
      refusedSubmissions: report.refused,
      unfinishedTasks: report.unfinished.length,
      submittedTasks: report.submitted,
      ackedTasks: report.acked,
      oldLeaderAcksAfterKill: report.oldLeaderAcksAfterMark,
      ackedPerSecondBefore: round(report.ackedPerSecondBefore, 0),
    };
    record.failover = {
      leadingLine,
      refusals: Object.entries(report.refusals).map(([reason, n]) => `${n}× ${reason}`),
      lostIds: report.lost.slice(0, KEEP_IDS),
      unfinished: report.unfinished.slice(0, KEEP_IDS),
    };
    const problems = [
      report.lost.length > 0 ? `${report.lost.length} acknowledged tasks are unknown to the new leader (lost), e.g. ${report.lost.slice(0, 3).join(", ")}` : "",
      report.unfinished.length > 0 ? `${report.unfinished.length} acknowledged tasks did not succeed, e.g. ${report.unfinished.slice(0, 3).join(", ")}` : "",
      report.firstNewLeaderAckAt === null ? `the new leader acknowledged nothing: the load ended before the producer reached it (${report.refused} refused); raise --failover-tasks` : "",
    ].filter(Boolean);
    if (problems.length > 0) record.error = problems.join("; ");
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    await stopRun(producer === undefined ? [] : [producer], deployment, record.error === undefined);
  }
  return record;
}
