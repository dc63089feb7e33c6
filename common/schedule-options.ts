import { create } from "@bufbuild/protobuf";
import { MisfirePolicy, OverlapPolicy, ScheduleSpecSchema, type ScheduleSpec } from "../gen/fastworker/v1/schedule_pb.js";
import { parseDurationText } from "./duration-text.js";
import { jsonToValue } from "./json.js";
import { priorityFromName, type PriorityName } from "./priority.js";
import { durationFromMs } from "./time.js";

/** What a tick does when the control plane was down over it. */
export type MisfireName = "run-once" | "skip";
/** What a tick does while the previous run is unfinished. */
export type OverlapName = "allow" | "skip" | "queue-one";

/**
 * When and how a task runs periodically: `cron` (with `tz`) or `every`. In a
 * task definition (`task(name, fn, { schedule })`) and for
 * `client.createSchedule()`; shared so both send the same message.
 */
export interface ScheduleOptions {
  /** Unique id; in a task definition it defaults to the task's name. */
  id?: string;
  /** A cron expression: "0 3 * * *" (minute hour day month weekday), or 6 fields with seconds first. */
  cron?: string;
  /** IANA time zone for `cron`, e.g. "Europe/Paris" (default UTC). */
  tz?: string;
  /** A fixed interval, "30s", "5m", "1h30m" (or milliseconds), aligned to multiples of it since the Unix epoch. At least 1s. */
  every?: string | number;
  /** The args of each task it submits (JSON). */
  args?: unknown;
  priority?: PriorityName;
  /** When the control plane was down over a tick: "run-once" (default) submits one task for the latest missed tick at recovery, "skip" none. */
  misfire?: MisfireName;
  /** While the previous run is unfinished: "allow" (default) runs anyway, "skip" skips the tick, "queue-one" runs it once the previous ends (one waits at most). */
  overlap?: OverlapName;
  /** Carried with each task (ctx.metadata), besides fw-schedule (the id) and fw-tick (the tick, ISO 8601). */
  metadata?: Record<string, string>;
}

const MISFIRE: Record<MisfireName, MisfirePolicy> = { "run-once": MisfirePolicy.RUN_ONCE, skip: MisfirePolicy.SKIP };
const OVERLAP: Record<OverlapName, OverlapPolicy> = { allow: OverlapPolicy.ALLOW, skip: OverlapPolicy.SKIP, "queue-one": OverlapPolicy.QUEUE_ONE };

/** The wire form of schedule options; throws a TypeError for options that cannot be right (the control plane checks the rest). */
export function scheduleSpecMessage(options: ScheduleOptions, task: string): ScheduleSpec {
  const what = `schedule${options.id ? ` "${options.id}"` : ""} of "${task}"`;
  if ((options.cron === undefined) === (options.every === undefined)) throw new TypeError(`${what}: set exactly one of cron and every`);
  if (options.misfire !== undefined && !(options.misfire in MISFIRE)) throw new TypeError(`${what}: misfire must be "run-once" or "skip"`);
  if (options.overlap !== undefined && !(options.overlap in OVERLAP)) throw new TypeError(`${what}: overlap must be "allow", "skip" or "queue-one"`);
  let everyMs: number | undefined;
  if (options.every !== undefined) {
    try {
      everyMs = parseDurationText(options.every);
    } catch (err) {
      throw new TypeError(`${what}: every: ${(err as Error).message}`);
    }
  }
  return create(ScheduleSpecSchema, {
    id: options.id ?? "",
    task,
    cron: options.cron ?? "",
    timeZone: options.tz ?? "",
    every: everyMs === undefined ? undefined : durationFromMs(everyMs),
    args: options.args === undefined ? undefined : jsonToValue(JSON.parse(JSON.stringify(options.args)) as never),
    priority: options.priority ? priorityFromName(options.priority) : 0,
    misfire: options.misfire ? MISFIRE[options.misfire] : MisfirePolicy.UNSPECIFIED,
    overlap: options.overlap ? OVERLAP[options.overlap] : OverlapPolicy.UNSPECIFIED,
    metadata: { ...options.metadata },
  });
}

/** The option name of a wire misfire policy. */
export function misfireName(policy: MisfirePolicy): MisfireName {
  return policy === MisfirePolicy.SKIP ? "skip" : "run-once";
}

/** The option name of a wire overlap policy. */
export function overlapName(policy: OverlapPolicy): OverlapName {
  return policy === OverlapPolicy.SKIP ? "skip" : policy === OverlapPolicy.QUEUE_ONE ? "queue-one" : "allow";
}
