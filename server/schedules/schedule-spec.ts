import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { MisfirePolicy, OverlapPolicy, ScheduleSpecSchema, type ScheduleSpec } from "../../gen/fastworker/v1/schedule_pb.js";
import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import { isKnownPriority } from "../../common/priority.js";
import { jsonToValue, valueToJson } from "../../common/json.js";
import { overLimit } from "../../common/format-bytes.js";
import { jsonLimitProblem } from "../../common/json-limits.js";
import { exceedsBytes } from "../../common/split-by-bytes.js";
import { formatDurationText } from "../../common/duration-text.js";
import { durationFromMs, durationToMs } from "../../common/time.js";
import { validateTaskName } from "../engine/validate.js";
import { sameArgs } from "../store/key-index.js";
import type { LogValue } from "../store/state-log.js";
import { cronTiming, intervalTiming, type ScheduleTiming } from "../../common/schedule-timing.js";

/** A schedule's definition, validated: what it submits and when. */
export interface ScheduleSpecData {
  readonly id: string;
  readonly task: string;
  readonly cron: string | undefined;
  readonly timeZone: string | undefined;
  readonly everyMs: number | undefined;
  readonly argsJson: string;
  readonly priority: Priority;
  readonly misfire: MisfirePolicy;
  readonly overlap: OverlapPolicy;
  readonly metadata: Readonly<Record<string, string>>;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_METADATA_BYTES = 16 * 1024;

/**
 * Reads and checks a ScheduleSpec. `declaredBy`: the task definition that
 * declares it (its task field may be empty and its id defaults to the
 * task's name). Throws INVALID_ARGUMENT saying what is wrong.
 */
export function specFromMessage(message: ScheduleSpec, options: { maxPayloadBytes: number; declaredBy?: string }): ScheduleSpecData {
  const declaredBy = options.declaredBy;
  const what = declaredBy === undefined ? "the schedule" : `a schedule of task "${declaredBy}"`;
  const invalid = (text: string): ConnectError => new ConnectError(`${what}: ${text}`, Code.InvalidArgument);
  if (declaredBy !== undefined && message.task !== "" && message.task !== declaredBy) throw invalid(`its task is "${declaredBy}", not "${message.task}"`);
  const task = validateTaskName(declaredBy ?? message.task, "schedule's task name");
  const id = message.id || (declaredBy ?? "");
  if (!ID.test(id)) throw invalid(`the id ${JSON.stringify(id)} must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`);
  const everyMs = durationToMs(message.every);
  if ((message.cron === "") === (everyMs === undefined)) throw invalid("set exactly one of cron and every");
  if (message.timeZone !== "" && message.cron === "") throw invalid("a time zone applies to cron schedules only (intervals are absolute)");
  let argsJson = "null";
  if (message.args !== undefined) {
    try {
      argsJson = JSON.stringify(valueToJson(message.args));
    } catch (err) {
      throw invalid(`the args are not a valid JSON value: ${(err as Error).message}`);
    }
  }
  if (exceedsBytes(argsJson, options.maxPayloadBytes)) throw invalid(overLimit("the args are", Buffer.byteLength(argsJson), options.maxPayloadBytes));
  // Its tasks get these args without the submission checks: the same JSON rules apply here.
  const jsonProblem = jsonLimitProblem(argsJson);
  if (jsonProblem !== undefined) throw invalid(`the args have ${jsonProblem}`);
  if (message.priority !== Priority.UNSPECIFIED && !isKnownPriority(message.priority)) throw invalid(`unknown priority ${message.priority}`);
  if (!(message.misfire >= MisfirePolicy.UNSPECIFIED && message.misfire <= MisfirePolicy.SKIP)) throw invalid(`unknown misfire policy ${message.misfire}`);
  if (!(message.overlap >= OverlapPolicy.UNSPECIFIED && message.overlap <= OverlapPolicy.QUEUE_ONE)) throw invalid(`unknown overlap policy ${message.overlap}`);
  const metadataBytes = Object.entries(message.metadata).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
  if (metadataBytes > MAX_METADATA_BYTES) throw invalid(overLimit("the metadata is", metadataBytes, MAX_METADATA_BYTES));
  const spec: ScheduleSpecData = {
    id,
    task,
    cron: message.cron === "" ? undefined : message.cron.trim(),
    timeZone: message.timeZone === "" ? undefined : message.timeZone,
    everyMs,
    argsJson,
    priority: message.priority,
    misfire: message.misfire || MisfirePolicy.RUN_ONCE,
    overlap: message.overlap || OverlapPolicy.ALLOW,
    metadata: { ...message.metadata },
  };
  try {
    timingOf(spec);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  return spec;
}

/** When a spec ticks. Throws an Error for a bad cron, time zone or interval. */
export function timingOf(spec: ScheduleSpecData): ScheduleTiming {
  return spec.cron !== undefined ? cronTiming(spec.cron, spec.timeZone) : intervalTiming(spec.everyMs!);
}

/** "cron 0 3 * * * (Europe/Paris)" or "every 5m", for messages and listings. */
export function describeTiming(spec: ScheduleSpecData): string {
  return spec.cron !== undefined ? `cron ${spec.cron}${spec.timeZone ? ` (${spec.timeZone})` : ""}` : `every ${formatDurationText(spec.everyMs!)}`;
}

export function specMessage(spec: ScheduleSpecData): ScheduleSpec {
  return create(ScheduleSpecSchema, {
    id: spec.id,
    task: spec.task,
    cron: spec.cron ?? "",
    timeZone: spec.timeZone ?? "",
    every: spec.everyMs === undefined ? undefined : durationFromMs(spec.everyMs),
    args: jsonToValue(JSON.parse(spec.argsJson)),
    priority: spec.priority,
    misfire: spec.misfire,
    overlap: spec.overlap,
    metadata: { ...spec.metadata },
  });
}

/** The log value of a spec. */
export function encodeSpec(spec: ScheduleSpecData): LogValue {
  return [spec.id, spec.task, spec.cron ?? null, spec.timeZone ?? null, spec.everyMs ?? null, spec.argsJson, spec.priority, spec.misfire, spec.overlap, spec.metadata];
}

export function decodeSpec(value: LogValue): ScheduleSpecData {
  const v = value as readonly LogValue[];
  return {
    id: v[0] as string,
    task: v[1] as string,
    cron: (v[2] as string | null) ?? undefined,
    timeZone: (v[3] as string | null) ?? undefined,
    everyMs: (v[4] as number | null) ?? undefined,
    argsJson: v[5] as string,
    priority: v[6] as Priority,
    misfire: v[7] as MisfirePolicy,
    overlap: v[8] as OverlapPolicy,
    metadata: v[9] as Record<string, string>,
  };
}

/** Whether two specs say the same thing (args compared as JSON values). */
export function sameSpec(a: ScheduleSpecData, b: ScheduleSpecData): boolean {
  const rest = (s: ScheduleSpecData): string => JSON.stringify(encodeSpec({ ...s, argsJson: "" }));
  return rest(a) === rest(b) && sameArgs(a.argsJson, b.argsJson);
}
