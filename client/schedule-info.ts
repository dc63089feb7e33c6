import type { JsonValue } from "@bufbuild/protobuf";
import type { FlowLimit, LimitInfo as LimitInfoMessage } from "../gen/fastworker/v1/limit_pb.js";
import { ScheduleSource, type Schedule } from "../gen/fastworker/v1/schedule_pb.js";
import { TaskState } from "../gen/fastworker/v1/task_pb.js";
import { formatDurationText } from "../common/duration-text.js";
import { valueToJson } from "../common/json.js";
import { misfireName, overlapName, type MisfireName, type OverlapName } from "../common/schedule-options.js";
import { priorityName, type PriorityName } from "../common/priority.js";
import { taskStateName, type TaskStateName } from "../common/task-state.js";
import { durationToMs, timestampToMs } from "../common/time.js";

/** A schedule and its state, as plain values. */
export interface ScheduleInfo {
  id: string;
  task: string;
  cron?: string;
  tz?: string;
  /** The interval as text ("5m"), for interval schedules. */
  every?: string;
  args: JsonValue;
  priority?: PriorityName;
  misfire: MisfireName;
  overlap: OverlapName;
  metadata: Record<string, string>;
  /** "declared" (in a task module) or "api" (fw schedule add, createSchedule). */
  source: "declared" | "api";
  paused: boolean;
  /** The next ticks (up to 3), unless paused. */
  nextRuns: Date[];
  lastRun?: { tick?: Date; taskId?: string; state?: TaskStateName; note: string; manual: boolean };
  runs: number;
  skipped: number;
  /** A tick waiting for the previous run to end (overlap "queue-one"). */
  waitingTick?: Date;
  /** Set when workers declared this id differently. */
  conflict?: string;
  createdAt?: Date;
}

/** A flow limit as plain values (undefined fields: not set). */
export interface FlowLimitInfo {
  concurrency?: number;
  rateLimit?: { max: number; perMs: number };
  limitKey?: string;
}

/** A task name's limits and their use. */
export interface LimitInfo {
  task: string;
  declared?: FlowLimitInfo;
  override?: FlowLimitInfo;
  effective?: FlowLimitInfo;
  running: number;
  /** Queued tasks held back by the limit. */
  waiting: number;
  /** The busiest lanes (per key value; one lane "" without a key). */
  lanes: { key: string; running: number; waiting: number; tokens: number; nextStartAt?: Date }[];
  lanesTotal: number;
}

const date = (ms: number): Date | undefined => (ms ? new Date(ms) : undefined);

/** A Schedule message as plain values. */
export function scheduleInfo(s: Schedule): ScheduleInfo {
  const spec = s.spec!;
  const everyMs = durationToMs(spec.every);
  const run = s.lastRun;
  return {
    id: spec.id,
    task: spec.task,
    ...(spec.cron ? { cron: spec.cron, tz: spec.timeZone || "UTC" } : {}),
    ...(everyMs !== undefined ? { every: formatDurationText(everyMs) } : {}),
    args: spec.args === undefined ? null : valueToJson(spec.args),
    ...(spec.priority ? { priority: priorityName(spec.priority) } : {}),
    misfire: misfireName(spec.misfire),
    overlap: overlapName(spec.overlap),
    metadata: { ...spec.metadata },
    source: s.source === ScheduleSource.API ? "api" : "declared",
    paused: s.paused,
    nextRuns: s.nextRuns.map((t) => new Date(timestampToMs(t))),
    ...(run !== undefined
      ? {
          lastRun: {
            tick: date(timestampToMs(run.tick)),
            ...(run.taskId ? { taskId: run.taskId } : {}),
            ...(run.state !== TaskState.UNSPECIFIED ? { state: taskStateName(run.state) } : {}),
            note: run.note,
            manual: run.manual,
          },
        }
      : {}),
    runs: Number(s.runsTotal),
    skipped: Number(s.skippedTotal),
    ...(s.waitingTick ? { waitingTick: new Date(timestampToMs(s.waitingTick)) } : {}),
    ...(s.conflict ? { conflict: s.conflict } : {}),
    createdAt: date(timestampToMs(s.createdAt)),
  };
}

function flowLimitInfo(limit: FlowLimit | undefined): FlowLimitInfo | undefined {
  if (limit === undefined) return undefined;
  const perMs = durationToMs(limit.rate?.per) ?? 0;
  return {
    ...(limit.concurrency !== undefined ? { concurrency: limit.concurrency } : {}),
    ...(limit.rate !== undefined ? { rateLimit: { max: limit.rate.max, perMs } } : {}),
    ...(limit.key !== undefined ? { limitKey: limit.key } : {}),
  };
}

/** A LimitInfo message as plain values. */
export function limitInfo(l: LimitInfoMessage): LimitInfo {
  const declared = flowLimitInfo(l.declared);
  const override = flowLimitInfo(l.override);
  const effective = flowLimitInfo(l.effective);
  return {
    task: l.task,
    ...(declared ? { declared } : {}),
    ...(override ? { override } : {}),
    ...(effective ? { effective } : {}),
    running: l.running,
    waiting: l.waiting,
    lanes: l.lanes.map((lane) => ({
      key: lane.key,
      running: lane.running,
      waiting: lane.waiting,
      tokens: lane.tokens,
      ...(lane.nextStartAt ? { nextStartAt: new Date(timestampToMs(lane.nextStartAt)) } : {}),
    })),
    lanesTotal: l.lanesTotal,
  };
}

/** A flow limit in a few words, for people (fw limits, the dashboard): "5 running, 100/1m, per args:/customer". */
export function describeFlowLimit(limit: FlowLimitInfo | undefined): string {
  if (limit === undefined) return "-";
  const parts: string[] = [];
  if (limit.concurrency !== undefined) parts.push(limit.concurrency === 0 ? "no concurrency limit" : `${limit.concurrency} running`);
  if (limit.rateLimit !== undefined) parts.push(limit.rateLimit.max === 0 ? "no rate limit" : `${limit.rateLimit.max}/${formatDurationText(limit.rateLimit.perMs)}`);
  if (limit.limitKey !== undefined) parts.push(limit.limitKey === "" ? "unkeyed" : `per ${limit.limitKey}`);
  return parts.join(", ") || "-";
}

