import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { StateTally } from "../store/name-counts.js";
import type { ControlPlane } from "./control-plane.js";
import type { RunTimeSummary } from "./run-times.js";

/** The most rows ListTaskNames answers (and its default). */
export const MAX_TASK_NAME_ROWS = 1000;

/** One task name's row: what ListTaskNames answers and `fw stats` prints. */
export interface TaskNameRow {
  name: string;
  /** Tasks now in each state, index = TaskState. */
  counts: StateTally;
  /** Connected workers (dispatch stream open) that serve it. */
  workers: number;
  /** When it was paused, or undefined. */
  pausedAt: number | undefined;
  runTime: RunTimeSummary | undefined;
}

/**
 * Every task name the control plane knows of (of kept tasks, declared
 * definitions and pauses) with its counts, the workers serving it and its
 * run times: the most queued first, then the most running, then by name;
 * at most `limit` of `total`.
 */
export function taskNameRows(plane: ControlPlane, limit: number): { rows: TaskNameRow[]; total: number } {
  const served = new Map<string, number>();
  for (const worker of plane.workers.live()) {
    if (worker.stream === undefined) continue;
    for (const name of worker.names) served.set(name, (served.get(name) ?? 0) + 1);
  }
  const names = new Set<string>();
  for (const [name] of plane.store.nameCounts()) names.add(name);
  for (const name of plane.definitions.names()) names.add(name);
  for (const name of plane.pauses.names()) names.add(name);
  const rows: TaskNameRow[] = [];
  for (const name of names) {
    rows.push({
      name,
      counts: plane.store.countsOf(name),
      workers: served.get(name) ?? 0,
      pausedAt: plane.pauses.pausedAt(name),
      runTime: plane.runTimes.summary(name),
    });
  }
  const q = TaskState.QUEUED;
  const r = TaskState.RUNNING;
  rows.sort((a, b) => b.counts[q]! - a.counts[q]! || b.counts[r]! - a.counts[r]! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const cap = limit > 0 ? Math.min(limit, MAX_TASK_NAME_ROWS) : MAX_TASK_NAME_ROWS;
  return { rows: rows.slice(0, cap), total: rows.length };
}

/** One name's row (PauseTaskName and ResumeTaskName answer it). */
export function taskNameRow(plane: ControlPlane, name: string): TaskNameRow {
  let workers = 0;
  for (const worker of plane.workers.live()) if (worker.stream !== undefined && worker.names.includes(name)) workers++;
  return { name, counts: plane.store.countsOf(name), workers, pausedAt: plane.pauses.pausedAt(name), runTime: plane.runTimes.summary(name) };
}
