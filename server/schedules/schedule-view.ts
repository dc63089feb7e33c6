import { create } from "@bufbuild/protobuf";
import { ScheduleRunSchema, ScheduleSchema, type Schedule } from "../../gen/fastworker/v1/schedule_pb.js";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { timestampFromMs } from "../../common/time.js";
import type { TaskStore } from "../store/task-store.js";
import type { ScheduleEntry } from "./schedule-registry.js";
import { specMessage } from "./schedule-spec.js";

const NEXT_RUNS = 3;

/** The Schedule message for an entry: its spec, state, next ticks, and its last run with the task's current state. */
export function scheduleMessage(entry: ScheduleEntry, store: TaskStore, now: number): Schedule {
  const nextRuns: number[] = [];
  if (!entry.paused) {
    for (let t = entry.nextTick; nextRuns.length < NEXT_RUNS && Number.isFinite(t); t = entry.timing.next(t)) nextRuns.push(t);
  }
  const run = entry.lastRun;
  const task = run?.taskId ? store.get(run.taskId, now) : undefined;
  return create(ScheduleSchema, {
    spec: specMessage(entry.spec),
    source: entry.source,
    paused: entry.paused,
    nextRuns: nextRuns.map((t) => timestampFromMs(t)!),
    lastRun:
      run === undefined
        ? undefined
        : create(ScheduleRunSchema, {
            tick: timestampFromMs(run.tick),
            taskId: run.taskId,
            state: task?.state ?? run.state ?? TaskState.UNSPECIFIED,
            note: run.note,
            manual: run.manual,
          }),
    runsTotal: BigInt(entry.runsTotal),
    skippedTotal: BigInt(entry.skippedTotal),
    waitingTick: timestampFromMs(entry.waitingTick),
    conflict: entry.conflict,
    createdAt: timestampFromMs(entry.createdAt),
  });
}
