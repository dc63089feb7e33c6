import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { formatBytes } from "../../common/format-bytes.js";
import { LmdbLog } from "./lmdb-log.js";
import { decodeTask } from "./record-codec.js";
import type { Collection, LogValue } from "./state-log.js";

/** What `fw-server --check` found in a data directory. */
export interface StateReport {
  dir: string;
  fileBytes: number;
  records: Record<Collection, number>;
  tasksByState: Record<string, number>;
  /** Records that could not be read, or tasks without args, or args without a task. */
  problems: string[];
  /** How long reading and decoding every record took (about what a restart spends recovering). */
  readMs: number;
}

/**
 * Reads every record of a data directory (read-only: it works beside a
 * running control plane) and checks that each one decodes and that every
 * task has its args and every args its task.
 */
export async function checkState(dataDir: string): Promise<StateReport> {
  const dir = resolve(dataDir);
  const file = join(dir, "data.mdb");
  if (!existsSync(file)) throw new Error(`${dir} holds no fastworker state (no data.mdb): is --data-dir right?`);
  const log = LmdbLog.open(dir, { readOnly: true });
  try {
    const started = performance.now();
    const args = new Set<string>();
    for await (const [id] of log.load("args")) args.add(id);
    const problems: string[] = [];
    const tasksByState: Record<string, number> = {};
    let tasks = 0;
    for await (const [id, value] of log.load("tasks")) {
      tasks++;
      try {
        const task = decodeTask(id, value, (key) => (args.delete(key) ? "null" : undefined));
        const state = TaskState[task.state] ?? `unknown(${task.state})`;
        tasksByState[state] = (tasksByState[state] ?? 0) + 1;
      } catch (err) {
        problems.push(`task ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }

    }
    // Queued tasks kept on disk only (the cold tier): the id first, then the record.
    for await (const [key, value] of log.load("cold")) {
      tasks++;
      try {
        const [id, record] = value as [string, LogValue];
        const task = decodeTask(id, record, (k) => (args.delete(k) ? "null" : undefined));
        const state = TaskState[task.state] ?? `unknown(${task.state})`;
        tasksByState[state] = (tasksByState[state] ?? 0) + 1;
      } catch (err) {
        problems.push(`queued task at ${JSON.stringify(key)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const id of args) problems.push(`args ${id} belong to no task`);
    const counts = log.stats().counts;
    return { dir, fileBytes: statSync(file).size, records: counts, tasksByState, problems, readMs: performance.now() - started };
  } finally {
    await log.close();
  }
}

/** The report as `fw-server --check` prints it. */
export function formatCheck(report: StateReport): string {
  const states = Object.entries(report.tasksByState)
    .map(([state, n]) => `${state.toLowerCase()} ${n}`)
    .join(", ");
  const lines = [
    `data directory ${report.dir}: ${formatBytes(report.fileBytes)} on disk`,
    `tasks ${report.records.tasks + (report.records.cold ?? 0)}${states ? ` (${states})` : ""}${report.records.cold ? `, ${report.records.cold} of them queued on disk only` : ""}; worker sessions ${report.records.workers}; task definitions ${report.records.definitions}`,
    `schedules ${report.records.schedules}; flow limits ${report.records.limits}; idempotency keys kept past their tasks ${report.records.keys}`,
    `read every record in ${report.readMs.toFixed(0)} ms`,
    report.problems.length === 0 ? "ok: every record reads back" : `${report.problems.length} problems:\n  ${report.problems.slice(0, 20).join("\n  ")}`,
  ];
  return lines.join("\n") + "\n";
}
